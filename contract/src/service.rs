//! The service types of CONTRACT §2.1.

use std::fmt;

/// A service type: which fields `add` takes for the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceType {
    /// link, quantity; optional runs + interval.
    Default,
    /// link.
    Package,
    /// link, quantity, keywords.
    Seo,
    /// link, comments (quantity = lines).
    CustomComments,
    /// link, comments.
    CustomCommentsPackage,
    /// link, quantity, usernames.
    Mentions,
    /// link, quantity, usernames, hashtags.
    MentionsWithHashtags,
    /// link, usernames (quantity = usernames).
    MentionsCustomList,
    /// link, quantity, hashtag.
    MentionsHashtag,
    /// link, quantity, username.
    MentionsUserFollowers,
    /// link, quantity, media.
    MentionsMediaLikers,
    /// link, quantity, username.
    CommentLikes,
    /// link, quantity, answer_number.
    Poll,
    /// link, quantity, groups.
    InvitesFromGroups,
    /// username, min, max; optional posts, old_posts, expiry, delay.
    Subscriptions,
    /// link, quantity, country, device, type_of_traffic, …; optional runs + interval.
    WebTraffic,
}

impl ServiceType {
    /// Every type, in the order of CONTRACT §2.1.
    pub const ALL: [ServiceType; 16] = [
        Self::Default,
        Self::Package,
        Self::Seo,
        Self::CustomComments,
        Self::CustomCommentsPackage,
        Self::Mentions,
        Self::MentionsWithHashtags,
        Self::MentionsCustomList,
        Self::MentionsHashtag,
        Self::MentionsUserFollowers,
        Self::MentionsMediaLikers,
        Self::CommentLikes,
        Self::Poll,
        Self::InvitesFromGroups,
        Self::Subscriptions,
        Self::WebTraffic,
    ];

    /// The type as `services` spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Default => "Default",
            Self::Package => "Package",
            Self::Seo => "SEO",
            Self::CustomComments => "Custom Comments",
            Self::CustomCommentsPackage => "Custom Comments Package",
            Self::Mentions => "Mentions",
            Self::MentionsWithHashtags => "Mentions with Hashtags",
            Self::MentionsCustomList => "Mentions Custom List",
            Self::MentionsHashtag => "Mentions Hashtag",
            Self::MentionsUserFollowers => "Mentions User Followers",
            Self::MentionsMediaLikers => "Mentions Media Likers",
            Self::CommentLikes => "Comment Likes",
            Self::Poll => "Poll",
            Self::InvitesFromGroups => "Invites from Groups",
            Self::Subscriptions => "Subscriptions",
            Self::WebTraffic => "Web Traffic",
        }
    }

    /// The type with this exact spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Whether services of this type may offer drip-feed (§2.1: Default and
    /// Web Traffic take `runs` and `interval`).
    pub const fn allows_dripfeed(self) -> bool {
        matches!(self, Self::Default | Self::WebTraffic)
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_by_its_spelling() {
        for t in ServiceType::ALL {
            assert_eq!(ServiceType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ServiceType::parse("default"), None);
    }
}

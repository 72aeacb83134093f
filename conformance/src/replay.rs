//! Replays that work on a fresh target: a failure about an order the run
//! placed carries the `add` that placed it first, its id caught in a shell
//! variable, and the failing request asks about that variable, not about an
//! id only the run's panel knew.

/// A script line that sends `curl`, prints its answer, and keeps the id in
/// its `slot` (`order`, `refill`) in the shell variable `var`.
pub fn capture(curl: &str, var: &str, slot: &str) -> String {
    format!(
        "A=$({curl}); echo \"$A\"; {var}=$(printf '%s' \"$A\" | sed -n 's/.*\"{slot}\": *\"\\{{0,1\\}}\\([0-9]*\\).*/\\1/p')"
    )
}

/// `text` (a shell command) with the id `id`, wherever it is a whole word of
/// digits, written as the shell variable `var` (`$O1`); inside single quotes
/// the quotes are closed around it, so the shell expands it.
pub fn replace_id(text: &str, id: &str, var: &str) -> String {
    let mut out = String::new();
    let mut single = false;
    let mut double = false;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let rest = &text[at..];
        let whole = rest.starts_with(id)
            && !out.chars().last().is_some_and(|p| p.is_ascii_digit())
            && !rest[id.len()..]
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_digit());
        if whole {
            if single {
                out.push_str(&format!("'\"{var}\"'"));
            } else {
                out.push_str(var);
            }
            // Skip the rest of the id.
            for _ in 1..id.chars().count() {
                chars.next();
            }
            continue;
        }
        match c {
            '\\' if !single => {
                out.push(c);
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
                continue;
            }
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The most `add`s a replay script starts with.
const MAX_ADDS: usize = 8;

/// `request` (a curl command) preceded by the `add` of each order it names
/// that the run placed (`placed`: id and the curl of its `add`), each id
/// caught in `$O1`, `$O2`…: a script that replays on a fresh target. A
/// request that names none of them, or that is already a script, is
/// returned as it is.
pub fn with_orders(request: &str, placed: &[(u64, String)]) -> String {
    if request.contains('\n') || request.is_empty() {
        return request.to_owned();
    }
    let mut script = Vec::new();
    let mut last = request.to_owned();
    for (id, add) in placed {
        let id = id.to_string();
        let var = format!("$O{}", script.len() + 1);
        let replaced = replace_id(&last, &id, &var);
        if replaced != last {
            script.push(capture(add, &var[1..], "order"));
            last = replaced;
        }
    }
    // A request about many of the run's orders (a reconciliation) stays as
    // it is: its replay would be the run itself.
    if script.is_empty() || script.len() > MAX_ADDS {
        return request.to_owned();
    }
    script.push(last);
    script.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_replaced_as_whole_words_and_expand_inside_quotes() {
        assert_eq!(
            replace_id("order=23501 orders=123501,23501", "23501", "$O1"),
            "order=$O1 orders=123501,$O1"
        );
        assert_eq!(
            replace_id("-d 'orders= 23501 ,x' -d \"a=23501\"", "23501", "$O1"),
            "-d 'orders= '\"$O1\"' ,x' -d \"a=$O1\""
        );
    }

    #[test]
    fn a_request_about_a_placed_order_gets_its_add_first() {
        let add = "curl -s U --data-urlencode action=add --data-urlencode quantity=10";
        let placed = [(23504, add.to_owned()), (23510, "curl add2".to_owned())];
        let request = "curl -s U --data-urlencode action=status --data-urlencode order=23510";
        let script = with_orders(request, &placed);
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(lines.len(), 2, "{script}");
        assert!(
            lines[0].starts_with("A=$(curl add2); echo \"$A\"; O1=$("),
            "{script}"
        );
        assert!(lines[1].ends_with("order=$O1"), "{script}");
        // Nothing of the run's: unchanged.
        let other = "curl -s U --data-urlencode order=99";
        assert_eq!(with_orders(other, &placed), other);
    }

    /// The script runs in a shell: the variable holds the id the `add`
    /// answered, and the quoted request asks about it.
    #[test]
    fn the_script_runs_in_sh() {
        let placed = [(23504, r#"printf '{"order":777}'"#.to_owned())];
        let request = "printf '%s\\n' 'orders=1, 23504'";
        let script = with_orders(request, &placed);
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text, "{\"order\":777}\norders=1, 777\n", "{script}");
    }
}

//! The architecture rule of the web crate: handlers parse, call a use case in `hamdeli-app`
//! and render; the use case authorises the principal and decides the scope once, then reads
//! the store. So no file under `src/` may call a `hamdeli_store` function with the store (or
//! a transaction or connection) itself, except the reference data and plumbing allowed below
//! and the known exceptions still to move.
//!
//! The scan finds calls written `hamdeli_store::<module>::f(store …)` and, after an import such
//! as `use hamdeli_store::<module>::{self, …}` or `use hamdeli_store::{<module>, …}`,
//! `<module>::f(store …)`; a call counts when its first argument names `store`, `tx`, `conn`
//! or `pool`. Types (`hamdeli_store::users::User`), constants and pure helpers
//! (`hamdeli_store::now_millis()`, `tokens::random_token()`) are not data reads. Comments and
//! `#[cfg(test)]` modules are skipped.
#![allow(clippy::unwrap_used)] // a test: a failed step should stop it loudly

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Store modules (or `module::function`) any handler may call, and why.
const ALLOWED: &[(&str, Option<&str>, &str)] = &[
    // Provinces and counties: public reference data, the same for every principal.
    ("geo", None, "reference data"),
    // The need types' catalogue (codes and names): public reference data.
    ("needs::need_types", None, "reference data"),
    // The instance's settings (demo mode …): plumbing, nothing personal.
    ("settings", None, "plumbing"),
    // Random tokens and CSRF keys: plumbing, no data.
    ("tokens", None, "plumbing"),
    // The auth context resolves the session cookie and the API key into a principal: it is
    // what every use case is then given, so it cannot go through one.
    ("sessions", Some("src/context.rs"), "auth context"),
    ("api_keys", Some("src/context.rs"), "auth context"),
];

/// Calls that break the rule and are still to move into use cases: (file, store module).
/// Remove an entry once its file no longer calls the module; the test fails on a stale entry
/// so that this list only shrinks.
const KNOWN_EXCEPTIONS: &[(&str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without `//` comments (outside string literals) and without the `#[cfg(test)]`
/// module and what follows it.
fn code_of(src: &str) -> String {
    let src = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    let (mut in_str, mut escaped) = (false, false);
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if c == '"' {
            in_str = true;
        } else if c == '/' && chars.peek() == Some(&'/') {
            for c in chars.by_ref() {
                if c == '\n' {
                    out.push('\n');
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_module_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') && s.chars().all(is_ident)
}

/// The paths a `use` tree names, with the name each is bound to (`a::{self, b as c}` →
/// `a` as `a`, `a::b` as `c`).
fn use_paths(prefix: &[String], tree: &str, out: &mut Vec<(Vec<String>, String)>) {
    let mut items = vec![];
    let (mut depth, mut cur) = (0, String::new());
    for c in tree.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    items.push(cur);
    for item in items {
        let item: String = item.split_whitespace().collect::<Vec<_>>().join(" ");
        if item.is_empty() {
            continue;
        }
        if let (Some(open), Some(close)) = (item.find('{'), item.rfind('}')) {
            let mut p = prefix.to_vec();
            p.extend(
                item[..open]
                    .split("::")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            use_paths(&p, &item[open + 1..close], out);
            continue;
        }
        let (path, alias) = match item.split_once(" as ") {
            Some((p, a)) => (p.trim(), Some(a.trim().to_owned())),
            None => (item.as_str(), None),
        };
        let segs: Vec<String> = path
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let mut p = prefix.to_vec();
        if segs != ["self"] {
            p.extend(segs);
        }
        let Some(last) = p.last().cloned() else {
            continue;
        };
        out.push((p, alias.unwrap_or(last)));
    }
}

/// Local names bound to store modules in this file: name → module path (`reports::figures`).
fn store_module_bindings(code: &str) -> BTreeMap<String, String> {
    let mut bindings = BTreeMap::new();
    let mut rest = code;
    while let Some(i) = rest.find("use hamdeli_store::") {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i + "use ".len()..];
        let end = tail.find(';').unwrap_or(tail.len());
        if before.is_none_or(|c| !is_ident(c)) {
            let mut paths = vec![];
            use_paths(&[], &tail[..end], &mut paths);
            for (path, name) in paths {
                if path.len() >= 2
                    && path[0] == "hamdeli_store"
                    && path[1..].iter().all(|s| is_module_name(s))
                    && is_module_name(&name)
                {
                    bindings.insert(name, path[1..].join("::"));
                }
            }
        }
        rest = &tail[end..];
    }
    bindings
}

/// The first argument of the call whose `(` ends `code[..open]`.
fn first_argument(code: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in code[open..].char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return &code[open..open + i],
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => return &code[open..open + i],
            _ => {}
        }
    }
    &code[open..]
}

fn reads_data(argument: &str) -> bool {
    argument
        .split(|c: char| !is_ident(c))
        .any(|w| matches!(w, "store" | "tx" | "conn" | "pool"))
}

/// Every data call of a store module in `code`: (module path, function, line).
fn store_calls(code: &str) -> Vec<(String, String, usize)> {
    let mut roots: Vec<(String, Option<String>)> = vec![("hamdeli_store".into(), None)];
    for (name, module) in store_module_bindings(code) {
        roots.push((name, Some(module)));
    }
    let mut calls = vec![];
    for (root, module) in &roots {
        let mut from = 0;
        while let Some(found) = code[from..].find(root.as_str()) {
            let at = from + found;
            from = at + root.len();
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| is_ident(c) || c == ':') {
                continue;
            }
            // root(::segment)+ followed by `(`
            let mut segs = vec![];
            let mut pos = at + root.len();
            while code[pos..].starts_with("::") {
                let start = pos + 2;
                let len = code[start..]
                    .find(|c: char| !is_ident(c))
                    .unwrap_or(code.len() - start);
                let seg = &code[start..start + len];
                if !is_module_name(seg) {
                    break;
                }
                segs.push(seg.to_owned());
                pos = start + len;
            }
            let after = code[pos..].trim_start();
            if segs.is_empty() || !after.starts_with('(') {
                continue;
            }
            let open = code.len() - after.len() + 1;
            let function = segs.pop().unwrap();
            let mut path: Vec<String> = module.iter().cloned().collect();
            path.extend(segs);
            if path.is_empty() || !reads_data(first_argument(code, open)) {
                continue;
            }
            let line = code[..at].matches('\n').count() + 1;
            calls.push((path.join("::"), function, line));
        }
    }
    calls
}

fn allowed(file: &str, module: &str, function: &str) -> bool {
    ALLOWED.iter().any(|(entry, only_in, _)| {
        let matches = *entry == module || *entry == format!("{module}::{function}");
        matches && only_in.is_none_or(|f| f == file)
    })
}

#[test]
fn web_handlers_read_data_through_use_cases_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![];
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut violations = vec![];
    let mut excepted_seen = BTreeSet::new();
    for path in &files {
        let file = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let code = code_of(&std::fs::read_to_string(path).unwrap());
        for (module, function, line) in store_calls(&code) {
            if allowed(&file, &module, &function) {
                continue;
            }
            if KNOWN_EXCEPTIONS
                .iter()
                .any(|(f, m)| *f == file && *m == module)
            {
                excepted_seen.insert((file.clone(), module));
                continue;
            }
            violations.push(format!(
                "{file}:{line}: hamdeli_store::{module}::{function} called by a handler"
            ));
        }
    }
    assert!(
        violations.is_empty(),
        "web handlers must call a use case in hamdeli-app, not the store (or, for reference \
         data and plumbing only, extend ALLOWED in tests/architecture.rs with the reason):\n{}",
        violations.join("\n")
    );
    let stale: Vec<String> = KNOWN_EXCEPTIONS
        .iter()
        .filter(|(f, m)| !excepted_seen.contains(&(f.to_string(), m.to_string())))
        .map(|(f, m)| format!("{f}: {m}"))
        .collect();
    assert!(
        stale.is_empty(),
        "these files no longer call the store module: remove them from KNOWN_EXCEPTIONS in \
         tests/architecture.rs:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_scan_finds_direct_and_imported_store_calls() {
    let code = code_of(
        r#"
use hamdeli_store::coverage::{self, CoverageRow};
use hamdeli_store::{audit, geo as places};
use hamdeli_store::reports::figures::{self, NOW};
// hamdeli_store::persons::search(&state.store, q) in a comment is no call
async fn h(state: &AppState) {
    let a = hamdeli_store::persons::person(&state.store, 1).await?;
    let b = coverage::report(
        &state.store, &f, by, None).await?;
    let c = places::all_provinces(&state.store).await?;
    audit::record(&mut tx, &actor, e).await?;
    let d = figures::figure(&state.store, NOW).await?;
    let e = hamdeli_store::network::volunteers::minutes_logged(&state.store, 1).await?;
    let t = hamdeli_store::tokens::random_token();
    let u: hamdeli_store::users::User = user_from_session();
    let n = hamdeli_store::now_millis();
    let g = hamdeli_store::coverage::GroupBy::parse("county");
    let h = crate::pages::coverage::report(&state.store);
}
#[cfg(test)]
mod tests { fn t() { hamdeli_store::persons::person(&store, 1); } }
"#,
    );
    let mut found: Vec<(String, String)> = store_calls(&code)
        .into_iter()
        .map(|(m, f, _)| (m, f))
        .collect();
    found.sort();
    let expected: Vec<(String, String)> = [
        ("audit", "record"),
        ("coverage", "report"),
        ("geo", "all_provinces"),
        ("network::volunteers", "minutes_logged"),
        ("persons", "person"),
        ("reports::figures", "figure"),
    ]
    .iter()
    .map(|(m, f)| (m.to_string(), f.to_string()))
    .collect();
    assert_eq!(found, expected);
    assert!(allowed("src/pages/x.rs", "geo", "all_provinces"));
    assert!(allowed("src/pages/x.rs", "needs", "need_types"));
    assert!(!allowed("src/pages/x.rs", "needs", "facts_of_person"));
    assert!(allowed("src/context.rs", "sessions", "find"));
    assert!(!allowed("src/pages/x.rs", "sessions", "find"));
}

//! The README's supported-commands table is generated from the command
//! table; this test fails when it is stale. Regenerate with
//! `make commands-table` (runs this test with UPDATE_README=1).

use ferredis::commands::all_commands;

const BEGIN: &str = "<!-- commands:begin -->";
const END: &str = "<!-- commands:end -->";

fn render() -> String {
    let mut out = String::from("| command | arguments | group | summary |\n|---|---|---|---|\n");
    let mut rows: Vec<_> = all_commands().collect();
    rows.sort_by_key(|c| (c.group.name(), c.name));
    for c in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.name.to_ascii_uppercase(),
            c.syntax.replace('|', "\\|"),
            c.group.name(),
            c.summary
        ));
    }
    out
}

#[test]
fn readme_lists_every_command() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let (start, end) = match (readme.find(BEGIN), readme.find(END)) {
        (Some(s), Some(e)) if s < e => (s + BEGIN.len(), e),
        _ => panic!("README.md lacks the {BEGIN} / {END} markers"),
    };
    let table = format!("\n{}", render());
    if std::env::var("UPDATE_README").is_ok() {
        let updated = format!("{}{}{}", &readme[..start], table, &readme[end..]);
        std::fs::write(path, updated).expect("write README.md");
        return;
    }
    assert!(
        readme[start..end] == table,
        "README.md's command table is stale: run `make commands-table`"
    );
}

//! The registry a checked folder expands to, laid out as
//! `stowage_core::layout` says: a table of integers, one text with every
//! name, path and checksum, the scripts' SQL, and the digest of the whole
//! history.

use proc_macro2::TokenStream;
use quote::quote;
use stowage_core::layout::{self, NONE};
use stowage_core::{Folder, Script};

pub fn registry(folder: &Folder) -> TokenStream {
    let mut registry = Registry::default();
    for m in &folder.migrations {
        registry.table.push(m.version);
        registry.text(&m.name);
        match &m.tool_checksum {
            Some(checksum) => registry.text(checksum),
            None => registry.table.extend([NONE, NONE]),
        }
        registry.script(Some(&m.up));
        registry.script(m.down.as_ref());
    }
    let migrations = std::mem::take(&mut registry.table);
    for r in &folder.repeatables {
        registry.table.push(r.version);
        registry.text(&r.name);
        registry.script(Some(&r.script));
    }
    let repeatables = std::mem::take(&mut registry.table);
    // Repeatables' versions are negative: they come first.
    let mut history: Vec<(i64, &str)> = folder
        .repeatables
        .iter()
        .map(|r| (r.version, r.script.checksum.as_str()))
        .chain(
            folder
                .migrations
                .iter()
                .map(|m| (m.version, m.up.checksum.as_str())),
        )
        .collect();
    history.sort_by_key(|(version, _)| *version);
    let digest = stowage_core::checksum::history_digest(history);
    let Registry {
        text, sql, tracked, ..
    } = registry;
    let scripts = sql.len();
    let ints = |table: Vec<i64>| {
        let len = table.len();
        let values = table.into_iter().map(proc_macro2::Literal::i64_unsuffixed);
        quote!([i64; #len] = [#(#values),*])
    };
    let (migrations, repeatables) = (ints(migrations), ints(repeatables));
    let layout = folder.layout.name();
    let elsewhere = folder
        .elsewhere
        .iter()
        .copied()
        .map(proc_macro2::Literal::i64_unsuffixed);
    quote! {{
        #(#tracked)*
        static TABLE: #migrations;
        static REPEATABLES: #repeatables;
        static SQL: [&str; #scripts] = [#(#sql),*];
        ::stowage::Migrations::__new(&TABLE, #text, &SQL, #digest, #layout, &[#(#elsewhere),*])
            .__with_repeatables(&REPEATABLES)
    }}
}

/// The registry as it is written.
#[derive(Default)]
struct Registry {
    table: Vec<i64>,
    text: String,
    sql: Vec<TokenStream>,
    /// `include_bytes!` of the files whose text was normalized, left unused
    /// but for the compiler to track the file.
    tracked: Vec<TokenStream>,
}

impl Registry {
    /// Puts `value` in the text; writes its offset and length to the table.
    fn text(&mut self, value: &str) {
        self.table.push(self.text.len() as i64);
        self.table.push(value.len() as i64);
        self.text.push_str(value);
    }

    /// Writes a script's fields, or a missing one's.
    ///
    /// A file whose text is embedded as is comes in by `include_str!`, which
    /// also makes editing it rebuild the crate; one whose text was
    /// normalized is embedded as a literal, with an `include_bytes!` left
    /// unused only so that the compiler tracks the file. Statements are not
    /// embedded: the runtime cuts a script into statements by the same rules
    /// when it needs them, so what the compiler is given grows with the text
    /// alone.
    fn script(&mut self, script: Option<&Script>) {
        let Some(script) = script else {
            self.table.extend([NONE; layout::SCRIPT_FIELDS]);
            return;
        };
        let path = script.path.to_string_lossy();
        self.table.push(self.sql.len() as i64);
        self.sql.push(if script.verbatim {
            quote!(::core::include_str!(#path))
        } else {
            self.tracked.push(quote!(
                const _: &[u8] = ::core::include_bytes!(#path);
            ));
            let sql = &script.sql;
            quote!(#sql)
        });
        self.text(&script.display);
        self.table.push(self.text.len() as i64);
        self.text.push_str(&script.checksum);
        self.table.push(i64::from(!script.no_transaction));
        for timeout in [script.lock_timeout_ms, script.statement_timeout_ms] {
            self.table.push(
                timeout
                    .and_then(|ms| i64::try_from(ms).ok())
                    .unwrap_or(NONE),
            );
        }
    }
}

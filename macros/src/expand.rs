//! The registry a checked folder expands to, laid out as
//! `stowage_core::layout` says: a table of integers, one text with every
//! name, path and checksum, the scripts' SQL (and the expected schema), and
//! the digest of the whole history.

use proc_macro2::TokenStream;
use quote::quote;
use stowage_core::layout::{self, NONE};
use stowage_core::schema_file::SchemaFile;
use stowage_core::{Folder, Script};

pub fn registry(folder: &Folder, grants: bool) -> TokenStream {
    let mut registry = Registry::default();
    registry.schema(folder.schema.as_ref(), grants);
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
    let digest = &folder.digest;
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
    /// Writes the header: the schema file's text, if it is there, and its
    /// path, and whether it holds grants. A file that is there is tracked by
    /// the compiler, and so is the variable that lets a stale one through,
    /// read with `option_env!` so that setting or unsetting it rebuilds the
    /// crate (a proc macro cannot ask the compiler to track a variable).
    fn schema(&mut self, file: Option<&SchemaFile>, grants: bool) {
        let text = file.and_then(|f| f.text.as_ref());
        match (file, text) {
            (Some(file), Some(text)) => {
                self.table.push(self.sql.len() as i64);
                let sql = self.embed(&file.path, &text.text, text.verbatim);
                self.sql.push(sql);
                let var = stowage_core::schema_file::UPDATE_VAR;
                self.tracked.push(quote!(
                    const _: ::core::option::Option<&str> = ::core::option_env!(#var);
                ));
            }
            _ => self.table.push(NONE),
        }
        self.text(file.map_or("", |f| f.display.as_str()));
        self.table.push(i64::from(grants));
    }

    /// A file's text as the registry holds it: by `include_str!` if it is
    /// the file as it is, which also makes editing it rebuild the crate, or
    /// as a literal, with an `include_bytes!` left unused only so that the
    /// compiler tracks the file.
    fn embed(&mut self, path: &std::path::Path, text: &str, verbatim: bool) -> TokenStream {
        let path = path.to_string_lossy();
        if verbatim {
            quote!(::core::include_str!(#path))
        } else {
            self.tracked.push(quote!(
                const _: &[u8] = ::core::include_bytes!(#path);
            ));
            quote!(#text)
        }
    }

    /// Puts `value` in the text; writes its offset and length to the table.
    fn text(&mut self, value: &str) {
        self.table.push(self.text.len() as i64);
        self.table.push(value.len() as i64);
        self.text.push_str(value);
    }

    /// Writes a script's fields, or a missing one's; its text is embedded
    /// as [`embed`](Registry::embed) says. Statements are not embedded: the
    /// runtime cuts a script into statements by the same rules when it needs
    /// them, so what the compiler is given grows with the text alone.
    fn script(&mut self, script: Option<&Script>) {
        let Some(script) = script else {
            self.table.extend([NONE; layout::SCRIPT_FIELDS]);
            return;
        };
        self.table.push(self.sql.len() as i64);
        let sql = self.embed(&script.path, &script.sql, script.verbatim);
        self.sql.push(sql);
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

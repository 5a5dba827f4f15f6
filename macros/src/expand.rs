//! The registry a checked folder expands to: a static array of migrations
//! sorted by version, and the digest of the whole history.

use proc_macro2::TokenStream;
use quote::quote;
use stowage_core::{Folder, Script};

pub fn registry(folder: &Folder) -> TokenStream {
    let mut items = Vec::new();
    let migrations: Vec<_> = folder
        .migrations
        .iter()
        .map(|m| {
            let version = m.version;
            let name = &m.name;
            let up = script(&m.up, &mut items);
            let down = match &m.down {
                Some(down) => {
                    let down = script(down, &mut items);
                    quote!(::core::option::Option::Some(#down))
                }
                None => quote!(::core::option::Option::None),
            };
            quote!(::stowage::Migration::__new(#version, #name, #up, #down))
        })
        .collect();
    let count = migrations.len();
    let digest = stowage_core::checksum::history_digest(
        folder
            .migrations
            .iter()
            .map(|m| (m.version, m.up.checksum.as_str())),
    );
    quote! {{
        #(#items)*
        static MIGRATIONS: [::stowage::Migration; #count] = [#(#migrations),*];
        ::stowage::Migrations::__new(&MIGRATIONS, #digest)
    }}
}

/// A script's registry entry; `items` collects what it needs beside it.
///
/// A file whose text is embedded as is comes in by `include_str!`, which also
/// makes editing it rebuild the crate; one whose text was normalized is
/// embedded as a literal, with an `include_bytes!` left unused only so that
/// the compiler tracks the file. Statements are not embedded: the runtime
/// cuts a script into statements by the same rules when it needs them, so
/// what the compiler is given grows with the text alone. Timeouts from
/// directives follow.
fn script(script: &Script, items: &mut Vec<TokenStream>) -> TokenStream {
    let path = script.path.to_string_lossy();
    let display = &script.display;
    let checksum = &script.checksum;
    let sql = if script.verbatim {
        quote!(::core::include_str!(#path))
    } else {
        items.push(quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        ));
        let sql = &script.sql;
        quote!(#sql)
    };
    let transactional = !script.no_transaction;
    let script_tokens = quote!(::stowage::Script::__new(#display, #sql, #checksum, #transactional));
    if script.lock_timeout_ms.is_none() && script.statement_timeout_ms.is_none() {
        return script_tokens;
    }
    let (lock, statement) = (
        option(script.lock_timeout_ms),
        option(script.statement_timeout_ms),
    );
    quote!(#script_tokens.__timeouts(#lock, #statement))
}

fn option(ms: Option<u64>) -> TokenStream {
    match ms {
        Some(ms) => quote!(::core::option::Option::Some(#ms)),
        None => quote!(::core::option::Option::None),
    }
}

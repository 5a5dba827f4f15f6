//! The `embed_migrations!` macro of [stowage](https://docs.rs/stowage).
//!
//! Use it through `stowage::embed_migrations!`; its documentation is there.
//! The work is a pipeline: [`input`] parses the call, `stowage_core::load`
//! scans the folder and checks every rule, [`expand`] writes the registry.

#![forbid(unsafe_code)]

mod expand;
mod input;

use proc_macro::TokenStream;

/// Reads, checks and embeds a folder of SQL migrations; see `stowage::embed_migrations!`.
#[proc_macro]
pub fn embed_migrations(tokens: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(tokens as input::Input);
    let expanded = input
        .folder()
        .and_then(|(dir, schema, root)| {
            let updating = std::env::var_os(stowage_core::schema_file::UPDATE_VAR)
                .is_some_and(|v| !v.is_empty() && v != "0");
            stowage_core::load_layout(
                &dir,
                &root,
                input.layout,
                &input.elsewhere,
                &schema,
                updating,
            )
            .map_err(|problems| input.error(&problems))
        })
        .map(|folder| expand::registry(&folder, input.grants));
    match expanded {
        Ok(tokens) | Err(tokens) => tokens.into(),
    }
}

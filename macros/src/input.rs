//! The macro's arguments: nothing (the folder `migrations`) or a string
//! literal naming a folder relative to the crate's `Cargo.toml`, then,
//! optionally, `layout = "goose"` (another tool's layout), `elsewhere = [5,
//! 12]` (the versions of migrations in code, handled elsewhere), `schema =
//! "path"` (the schema file, relative to `Cargo.toml`; `schema.sql` in the
//! folder by default) and `grants = true` (the schema file holds the grants
//! on its objects).

use proc_macro2::{Span, TokenStream};
use std::path::PathBuf;
use stowage_core::Problem;
use stowage_core::tools::Layout;
use syn::parse::{Parse, ParseStream};
use syn::{LitInt, LitStr};

/// The folder used when the macro is called without an argument.
const DEFAULT_FOLDER: &str = "migrations";

/// Overrides `CARGO_MANIFEST_DIR` as the base of relative folders, for build
/// setups that compile a crate away from its manifest.
const MANIFEST_DIR_OVERRIDE: &str = "STOWAGE_MANIFEST_DIR";

pub struct Input {
    folder: Option<LitStr>,
    /// The layout the folder is read in.
    pub layout: Layout,
    /// The versions handled elsewhere.
    pub elsewhere: Vec<i64>,
    schema: Option<LitStr>,
    /// Whether the schema file holds grants.
    pub grants: bool,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut parsed = Input {
            folder: None,
            layout: Layout::Stowage,
            elsewhere: Vec::new(),
            schema: None,
            grants: false,
        };
        if input.is_empty() {
            return Ok(parsed);
        }
        if !input.peek(syn::Ident) {
            let folder: LitStr = input
                .parse()
                .map_err(|e| syn::Error::new(e.span(), "expected the migrations folder as a string literal, e.g. `embed_migrations!(\"db/migrations\")`"))?;
            parsed.folder = Some(folder);
            if input.is_empty() {
                return Ok(parsed);
            }
            let _: syn::Token![,] = input.parse()?;
        }
        while !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            let _: syn::Token![=] = input.parse()?;
            match key.to_string().as_str() {
                "layout" => {
                    let name: LitStr = input.parse()?;
                    parsed.layout = Layout::parse(&name.value()).ok_or_else(|| {
                        syn::Error::new(
                            name.span(),
                            format!(
                                "`{}` is not a layout stowage reads: the layouts are {}",
                                name.value(),
                                Layout::names()
                            ),
                        )
                    })?;
                }
                "elsewhere" => {
                    let content;
                    syn::bracketed!(content in input);
                    let versions = content.parse_terminated(LitInt::parse, syn::Token![,])?;
                    for version in versions {
                        parsed.elsewhere.push(version.base10_parse()?);
                    }
                }
                "schema" => parsed.schema = Some(input.parse()?),
                "grants" => parsed.grants = input.parse::<syn::LitBool>()?.value,
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "`{other}` is not an argument of `embed_migrations!`: it takes the folder, \
                             `layout = \"...\"`, `elsewhere = [versions]`, `schema = \"path/schema.sql\"` \
                             and `grants = true`"
                        ),
                    ));
                }
            }
            if input.is_empty() {
                break;
            }
            let _: syn::Token![,] = input.parse()?;
        }
        Ok(parsed)
    }
}

impl Input {
    fn span(&self) -> Span {
        self.folder
            .as_ref()
            .map_or_else(Span::call_site, LitStr::span)
    }

    /// The folder to scan, the schema file and the crate root that paths are
    /// shown relative to.
    pub fn folder(&self) -> Result<(PathBuf, PathBuf, PathBuf), TokenStream> {
        let root = std::env::var_os(MANIFEST_DIR_OVERRIDE)
            .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
            .map(PathBuf::from)
            .ok_or_else(|| {
                syn::Error::new(
                    self.span(),
                    "CARGO_MANIFEST_DIR is not set: build the crate with cargo",
                )
                .to_compile_error()
            })?;
        let folder = self
            .folder
            .as_ref()
            .map_or_else(|| DEFAULT_FOLDER.to_owned(), LitStr::value);
        let dir = root.join(folder);
        let schema = match &self.schema {
            Some(path) => root.join(path.value()),
            None => dir.join(stowage_core::schema_file::DEFAULT_NAME),
        };
        Ok((dir, schema, root))
    }

    /// Every problem as one compile error each, pointing at the macro call.
    /// The `compile_error!`s are the statements of one block: side by side
    /// they would not parse as the single expression the call stands for, and
    /// the compiler would report only the first.
    pub fn error(&self, problems: &[Problem]) -> TokenStream {
        let errors = problems
            .iter()
            .map(|p| syn::Error::new(self.span(), p).to_compile_error());
        quote::quote!({ #(#errors);* })
    }
}

//! Metadata documents (`oauth/metadata.rs`): RFC 9728 protected resource metadata and
//! RFC 8414 authorization server metadata, parsed and validated (incl. the WorkBoard issuer
//! allowance).
#![no_main]

use libfuzzer_sys::fuzz_target;
use url::Url;
use workboard_core::fuzzing::{AuthorizationServerMetadata, ProtectedResourceMetadata};
use workboard_core::oauth::metadata::IssuerPolicy;
use workboard_core::Environment;

fuzz_target!(|data: &[u8]| {
    let servers = ["https://www.myworkboard.com/wb/mcp", "https://mcp.example.com/", "http://127.0.0.1:9/wb/mcp"];
    if let Ok(prm) = ProtectedResourceMetadata::parse(data) {
        for s in servers {
            if let Ok(u) = Url::parse(s) {
                let _ = prm.validate(&u);
            }
        }
    }
    if let Ok(asm) = AuthorizationServerMetadata::parse(data) {
        let as_urls = ["https://www.myworkboard.com/wb/oauth", "https://as.example.com", "https://www.myworkboard.eu/wb/oauth"];
        for (i, a) in as_urls.iter().enumerate() {
            let Ok(u) = Url::parse(a) else { continue };
            let policy = match i {
                0 => IssuerPolicy::strict().with_environment(&Environment::Us),
                2 => IssuerPolicy::strict().with_environment(&Environment::Eu),
                _ => IssuerPolicy::strict(),
            };
            if let Ok(v) = asm.clone().validate(&u, &policy) {
                let _ = v.metadata.require_s256();
                let _ = v.metadata.supports_scope("all");
                let _ = v.metadata.supports_cimd();
            }
        }
    }
});

#!/usr/bin/env bash
# Fails when the checked-in Swift bindings are stale: regenerates them into a temporary
# directory and compares. (There is no Swift toolchain on the build machines: the Swift
# sources and XCTest files are not compiled or run here.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$here/generate.sh" "$tmp"
status=0
for f in WorkboardConnect/WorkboardConnect.swift WorkboardConnectFFI/include/WorkboardConnectFFI.h \
         WorkboardConnectFFI/include/module.modulemap; do
  if ! diff -q "$tmp/$f" "$here/Sources/$f" >/dev/null; then
    echo "stale: bindings/swift/Sources/$f (run bindings/swift/generate.sh)" >&2
    diff -u "$here/Sources/$f" "$tmp/$f" | head -40 >&2 || true
    status=1
  fi
done
# The XCTest files and the hand-written Idioms.swift must use only API that exists in the
# generated sources.
for sym in WorkboardClient ClientOptions V1SignInOptions McpSignInOptions ManualClock Transport \
           CredentialStore CredentialsListener HttpResponse HttpHeader WorkboardError ErrorKind HostError \
           listTools callTool startV1SignIn handleV1Redirect exchangeV1Code startMcpSignIn \
           completeMcpSignIn refreshMcpCredentials revokeMcpCredentials stepUpMcpSignIn \
           revokeV1Credentials credentialsJson parseCredentials version \
           listResources listResourceTemplates readResource listPrompts getPrompt complete discover \
           subscribe notifications McpNotificationStream McpSubscriptionFilter McpNotification \
           ElicitationHandler SamplingHandler RootsHandler McpElicitation McpElicitationResult \
           McpElicitationAction McpSamplingRequest McpSamplingResult McpRoot McpEra cancelCalls ResponseStream "func request(method"; do
  grep -q "$sym" "$here/Sources/WorkboardConnect/WorkboardConnect.swift" || { echo "missing in bindings: $sym" >&2; status=1; }
done
# What Idioms.swift extends and calls, as generated.
for decl in "open class McpNotificationStream" "open func next()async throws  -> McpNotification?" \
            "open func cancel()" "open class WorkboardClient" "open func cancelCalls()"; do
  grep -qF "$decl" "$here/Sources/WorkboardConnect/WorkboardConnect.swift" || { echo "Idioms.swift needs: $decl" >&2; status=1; }
done
if [ "$status" = 0 ]; then echo "swift bindings up to date: 1 passed, 0 failed"; else echo "swift bindings: 0 passed, 1 failed"; fi
exit "$status"

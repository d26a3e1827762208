// Mirrors bindings/kotlin/src/test/kotlin/com/workboard/connect/ClientTest.kt.
// NOT compiled or run on this project's build machines (no Swift toolchain there).
import Foundation
import XCTest
@testable import WorkboardConnect

final class ClientTests: XCTestCase {
    let seed = String(repeating: "07", count: 32)
    let redirect = "https://app.example/callback"
    let t0: UInt64 = 1_764_000_000_000

    func client(_ clock: ManualClock? = nil, store: CredentialStore? = nil) throws -> WorkboardClient {
        try WorkboardClient(options: ClientOptions(entropySeedHex: seed), store: store, clock: clock ?? ManualClock(startMs: t0))
    }

    func state(of url: String) -> String {
        URLComponents(string: url)!.queryItems!.first { $0.name == "state" }!.value!
    }

    /// The stable code of the WorkboardError thrown by `body`.
    func code(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
        } catch WorkboardError.Failed(let code, _, _, _) {
            return code
        } catch {
            XCTFail("not a WorkboardError: \(error)", file: file, line: line)
        }
        return nil
    }

    func asyncCode(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
        } catch WorkboardError.Failed(let code, _, _, _) {
            return code
        } catch {
            return "not a WorkboardError: \(error)"
        }
        return nil
    }

    func testVersionIsTheCrateVersion() {
        XCTAssertEqual(version(), "0.1.0")
    }

    func testErrorsCarryCodeMessageAndHint() throws {
        do {
            _ = try parseCredentials(credentialsJson: "{\"kind\":")
            XCTFail("no error")
        } catch WorkboardError.Failed(let code, _, let message, _) {
            XCTAssertEqual(code, "invalid_input")
            XCTAssertTrue(message.contains("stored credentials"))
        }
        let c = try client()
        let start = try c.startV1SignIn(options: V1SignInOptions(clientId: "cid", redirectUri: redirect))
        do {
            _ = try c.handleV1Redirect(pendingJson: start.pendingJson, redirect: "\(redirect)?error=access_denied&state=\(state(of: start.url))")
            XCTFail("no error")
        } catch WorkboardError.Failed(let code, _, _, let hint) {
            XCTAssertEqual(code, "authorization_denied")
            XCTAssertTrue(hint?.contains("declined") ?? false)
        }
    }

    /// The kind of the WorkboardError thrown by `body`.
    func kind(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> ErrorKind? {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
        } catch WorkboardError.Failed(_, let kind, _, _) {
            return kind
        } catch {
            XCTFail("not a WorkboardError: \(error)", file: file, line: line)
        }
        return nil
    }

    func testErrorsCarryTheirKind() async throws {
        // What an app does with it: an exhaustive `switch` over the enum.
        func action(_ k: ErrorKind) -> String {
            switch k {
            case .needsSignIn, .stepUpRequired, .signInFailed: return "sign in"
            case .network, .timeout, .rateLimited, .server: return "retry later"
            case .invalidInput, .wrongState: return "fix the call"
            case .unauthorized, .`protocol`, .cancelled, .stopped, .storage, .`internal`: return "report"
            }
        }
        XCTAssertEqual(kind { _ = try parseCredentials(credentialsJson: "{\"kind\":") }, .invalidInput)
        let c = try client()
        XCTAssertEqual(kind { _ = try c.stepUpMcpSignIn(scope: "x") }, .wrongState)
        XCTAssertEqual(kind { _ = try c.handleV1Redirect(pendingJson: nil, redirect: "\(redirect)?code=x&state=y") }.map(action), "fix the call")
        do {
            _ = try await c.refreshMcpCredentials()
            XCTFail("no error")
        } catch WorkboardError.Failed(let code, let kind, _, _) {
            XCTAssertEqual(code, "not_signed_in")
            XCTAssertEqual(kind, .needsSignIn)
        }
        let start = try c.startV1SignIn(options: V1SignInOptions(clientId: "cid", redirectUri: redirect))
        XCTAssertEqual(kind { _ = try c.handleV1Redirect(pendingJson: start.pendingJson, redirect: "\(redirect)?error=access_denied&state=\(state(of: start.url))") }, .signInFailed)
    }

    func testPersonalTokenIsParsedAndNeverShown() throws {
        let c = try WorkboardClient(options: ClientOptions(token: "Bearer wbp_secret_123"))
        let s = c.credentialsSummary()!
        XCTAssertEqual(s.kind, "personal")
        XCTAssertFalse("\(s)".contains("wbp_secret_123"))
        XCTAssertEqual(c.mcpUrl(), "https://www.myworkboard.com/wb/mcp")
    }

    func testV1AuthorizeUrlAndRedirectSurviveARestart() throws {
        let clock = ManualClock(startMs: t0)
        let start = try client(clock).startV1SignIn(options: V1SignInOptions(clientId: "cid", redirectUri: redirect, scopes: ["all"]))
        XCTAssertTrue(start.url.hasPrefix("https://www.myworkboard.com/wb/oauth/authorize?client_id=cid&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&scope=all&state="))
        let st = state(of: start.url)
        XCTAssertEqual(st.count, 43)
        clock.advanceMs(ms: 30_000)
        let restarted = try client(clock)
        let code = try restarted.handleV1Redirect(pendingJson: start.pendingJson, redirect: "\(redirect)?code=the-code&state=\(st)")
        XCTAssertEqual(code.code, "the-code")
        XCTAssertEqual(code.receivedAtMs, t0 + 30_000)
        XCTAssertEqual(code.expiresAtMs, t0 + 330_000)
        XCTAssertEqual(self.code { _ = try restarted.handleV1Redirect(pendingJson: nil, redirect: "\(self.redirect)?code=the-code&state=\(st)") }, "authorization_reused")
    }

    func testV1RedirectChecksStateAndExpiry() throws {
        let clock = ManualClock(startMs: t0)
        let c = try client(clock)
        let start = try c.startV1SignIn(options: V1SignInOptions(clientId: "cid", redirectUri: redirect))
        let st = state(of: start.url)
        let p = start.pendingJson
        XCTAssertEqual(code { _ = try c.handleV1Redirect(pendingJson: p, redirect: "\(self.redirect)?code=x&state=wrong") }, "state_mismatch")
        XCTAssertEqual(code { _ = try c.handleV1Redirect(pendingJson: p, redirect: "\(self.redirect)?code=x") }, "state_missing")
        XCTAssertEqual(code { _ = try c.handleV1Redirect(pendingJson: p, redirect: "https://evil.example/cb?code=x&state=\(st)") }, "redirect_uri_mismatch")
        clock.advanceMs(ms: 301_000)
        XCTAssertEqual(code { _ = try c.handleV1Redirect(pendingJson: p, redirect: "\(self.redirect)?code=x&state=\(st)") }, "authorization_expired")
    }

    func testBadInputIsATypedErrorNeverACrash() async throws {
        XCTAssertEqual(code { _ = try WorkboardClient(options: ClientOptions(environment: "not a url")) }, "invalid_url")
        XCTAssertEqual(code { _ = try WorkboardClient(options: ClientOptions(environment: "http://example.com")) }, "insecure_url")
        XCTAssertEqual(code { _ = try WorkboardClient(options: ClientOptions(entropySeedHex: "zz")) }, "invalid_input")
        XCTAssertEqual(code { _ = try WorkboardClient(options: ClientOptions(token: "  ")) }, "invalid_input")
        XCTAssertEqual(code { _ = try WorkboardClient(options: ClientOptions(credentialsJson: "[1,2")) }, "invalid_input")
        let c = try client()
        XCTAssertEqual(code { try c.setCredentialsJson(credentialsJson: "null") }, "invalid_input")
        XCTAssertEqual(code { _ = try c.handleV1Redirect(pendingJson: "{not json", redirect: "\(self.redirect)?code=x&state=y") }, "invalid_input")
        XCTAssertEqual(code { _ = try c.handleV1Redirect(pendingJson: nil, redirect: "\(self.redirect)?code=x&state=y") }, "wrong_state")
        XCTAssertEqual(code { _ = try c.startV1SignIn(options: V1SignInOptions(clientId: "cid", redirectUri: "no-scheme")) }, "invalid_url")
        XCTAssertEqual(code { _ = try c.stepUpMcpSignIn(scope: "x") }, "wrong_state")
        let r1 = await asyncCode { _ = try await c.callTool(name: "t", argumentsJson: "{not json") }
        XCTAssertEqual(r1, "invalid_input")
        let r2 = await asyncCode { _ = try await c.refreshMcpCredentials() }
        XCTAssertEqual(r2, "not_signed_in")
        let r3 = await asyncCode { _ = try await c.startMcpSignIn(options: McpSignInOptions(redirectUri: self.redirect, clientSecret: "s")) }
        XCTAssertEqual(r3, "secret_in_browser")
        XCTAssertNil(c.credentialsJson())
    }

    /// A keyed store in memory; `saves` records every change of the credentials (`nil`: removed).
    final class MemoryStore: CredentialStore, @unchecked Sendable {
        var values: [String: String] = [:]
        var saves: [String?] = []
        init(_ credentials: String? = nil) { values["credentials"] = credentials }
        var value: String? { values["credentials"] }
        func load(key: String) throws -> String? { values[key] }
        func save(key: String, value: String) throws { values[key] = value; if key == "credentials" { saves.append(value) } }
        func remove(key: String) throws { values[key] = nil; if key == "credentials" { saves.append(nil) } }
    }

    final class Recorder: CredentialsListener, @unchecked Sendable {
        var seen: [String?] = []
        func onCredentialsChanged(credentialsJson: String?) throws { seen.append(credentialsJson) }
    }

    func testCredentialStoreAndListenerSeeEveryChange() throws {
        let store = MemoryStore(try WorkboardClient(options: ClientOptions(token: "tok-1")).credentialsJson())
        let c = try client(store: store)
        XCTAssertEqual(c.credentialsSummary()?.kind, "personal")
        let rec = Recorder()
        c.setCredentialsListener(listener: rec)
        try c.setToken(token: "tok-2")
        try c.clearCredentials()
        XCTAssertEqual(rec.seen.count, 2)
        XCTAssertTrue(rec.seen[0]!.contains("tok-2"))
        XCTAssertNil(rec.seen[1])
        XCTAssertEqual(store.saves, [rec.seen[0], nil])
        XCTAssertNil(c.storeError())
    }

    /// A server that answers every request with the same bytes.
    final class Fixed: Transport, @unchecked Sendable {
        let response: HttpResponse
        init(_ status: UInt16, _ contentType: String, _ body: String) {
            response = HttpResponse(status: status, headers: [HttpHeader(name: "Content-Type", value: contentType)], body: Data(body.utf8))
        }
        func send(request: HttpRequest) async throws -> HttpResponse { response }
    }

    func testGarbageFromTheServerIsATypedError() async throws {
        let cases: [(Fixed, String)] = [
            (Fixed(200, "text/html", "<html>login</html>"), "invalid_response"),
            (Fixed(200, "application/json", "{\"jsonrpc\":\"2.0\",\"id\":"), "invalid_response"),
            (Fixed(200, "text/event-stream", "data: {not json}\n\n"), "protocol_error"),
            (Fixed(500, "text/plain", "oops"), "http_status"),
            (Fixed(200, "application/json", "[]"), "protocol_error"),
        ]
        for (transport, expected) in cases {
            let c = try WorkboardClient(options: ClientOptions(token: "tok"), transport: transport)
            let got = await asyncCode { _ = try await c.listTools() }
            XCTAssertEqual(got, expected)
        }
    }

    /// The app's transport with its own body limit: a larger body is refused as too large.
    final class Capped: Transport, @unchecked Sendable {
        let limit: Int
        let inner: Transport
        private let lock = NSLock()
        private var count = 0
        init(_ limit: Int, _ inner: Transport) { self.limit = limit; self.inner = inner }
        var sent: Int { lock.lock(); defer { lock.unlock() }; return count }
        private func bump() { lock.lock(); count += 1; lock.unlock() }
        func send(request: HttpRequest) async throws -> HttpResponse {
            bump()
            let r = try await inner.send(request: request)
            if r.body.count > limit { throw HostError.BodyTooLarge(limit: UInt64(limit)) }
            return r
        }
    }

    func testATransportRefusingAnOversizedBodyIsResponseTooLargeNotReplayed() async throws {
        let t = Capped(1024, Fixed(200, "application/json", String(repeating: "x", count: 4096)))
        let c = try WorkboardClient(options: ClientOptions(token: "tok"), transport: t)
        do {
            _ = try await c.listTools()
            XCTFail("no error")
        } catch WorkboardError.Failed(let code, _, let message, _) {
            XCTAssertEqual(code, "response_too_large")
            XCTAssertTrue(message.contains("1024"), message)
        }
        // `initialize` is replayed after a network failure; an oversized body is not one.
        XCTAssertEqual(t.sent, 1)
    }
}

// Mirrors bindings/kotlin/src/test/kotlin/com/workboard/connect/VectorReplayTest.kt: replays
// every transcript in tests/vectors through a scripted Swift Transport.
// NOT compiled or run on this project's build machines (no Swift toolchain there).
import Foundation
import XCTest
@testable import WorkboardConnect

final class ScriptedTransport: Transport, @unchecked Sendable {
    private let lock = NSLock()
    var script: [[String: Any]] = []
    var failures: [String] = []

    func load(_ exchanges: [[String: Any]]) {
        lock.lock(); script = exchanges; lock.unlock()
    }

    func send(request: HttpRequest) async throws -> HttpResponse {
        let got: [String: Any] = [
            "method": request.method,
            "url": request.url,
            "headers": request.headers.map { [$0.name, $0.value] },
            "body": String(decoding: request.body, as: UTF8.self),
        ]
        // Requests issued together may arrive in either order: take the first equal exchange.
        lock.lock()
        let index = script.firstIndex { jsonMatches($0["request"], got) }
        let ex = index.map { script.remove(at: $0) }
        if ex == nil { failures.append("request differs from every remaining exchange: \(got)") }
        lock.unlock()
        guard let exchange = ex, let r = exchange["response"] as? [String: Any] else {
            throw HostError.Other(reason: "no scripted exchange matches")
        }
        switch r["transport_error"] as? String {
        case "connect": throw HostError.Connect(reason: "scripted")
        case "timeout": throw HostError.Timeout
        case .some: throw HostError.Interrupted(reason: "scripted")
        case .none: break
        }
        let headers = (r["headers"] as? [[String]] ?? []).map { HttpHeader(name: $0[0], value: $0[1]) }
        return HttpResponse(status: UInt16(r["status"] as! Int), headers: headers, body: Data(((r["body"] as? String) ?? "").utf8))
    }
}

/// JSON equality where an expected `"*"` matches anything.
func jsonMatches(_ expected: Any?, _ actual: Any?) -> Bool {
    if let s = expected as? String, s == "*" { return true }
    let e = expected is NSNull ? nil : expected
    let a = actual is NSNull ? nil : actual
    switch (e, a) {
    case (nil, nil): return true
    case let (e as [String: Any], a as [String: Any]):
        return Set(e.keys) == Set(a.keys) && e.keys.allSatisfy { jsonMatches(e[$0], a[$0]) }
    case let (e as [Any], a as [Any]):
        return e.count == a.count && zip(e, a).allSatisfy { jsonMatches($0, $1) }
    case let (e as NSNumber, a as NSNumber): return e == a
    case let (e as String, a as String): return e == a
    default: return false
    }
}

func jsonText(_ v: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: v, options: .fragmentsAllowed), as: UTF8.self)
}

/// `connect`'s `input`: each handler answers with the vector's answer for its kind.
final class VectorElicitation: ElicitationHandler, @unchecked Sendable {
    let input: [String: Any]
    init(_ input: [String: Any]) { self.input = input }
    func elicit(request: McpElicitation) async throws -> McpElicitationResult {
        let a = input[request.mode == "url" ? "elicitation_url" : "elicitation"] as! [String: Any]
        let action: McpElicitationAction = switch a["action"] as! String {
        case "accept": .accept
        case "decline": .decline
        default: .cancel
        }
        return McpElicitationResult(action: action, contentJson: try a["content"].map { try jsonText($0) })
    }
}

final class VectorSampling: SamplingHandler, @unchecked Sendable {
    let a: [String: Any]
    init(_ a: [String: Any]) { self.a = a }
    func createMessage(request: McpSamplingRequest) async throws -> McpSamplingResult {
        McpSamplingResult(role: a["role"] as! String, contentJson: try jsonText(a["content"]!), model: a["model"] as! String,
                          stopReason: a["stopReason"] as? String)
    }
}

final class VectorRoots: RootsHandler, @unchecked Sendable {
    let a: [String: Any]
    init(_ a: [String: Any]) { self.a = a }
    func listRoots() async throws -> [McpRoot] {
        (a["roots"] as! [[String: Any]]).map { McpRoot(uri: $0["uri"] as! String, name: $0["name"] as? String) }
    }
}

final class VectorReplayTests: XCTestCase {
    static let supported: Set<String> = [
        "mcp_oauth_start", "mcp_oauth_redirect", "mcp_refresh", "mcp_step_up", "mcp_revoke",
        "v1_authorize", "v1_handle_redirect", "v1_exchange_code", "v1_revoke",
        "connect", "list_tools", "call_tool", "close", "ping", "discover",
        "list_resources", "list_resource_templates", "read_resource", "list_prompts", "get_prompt", "complete",
        "subscribe", "request",
    ]

    var vectorsDir: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tests/vectors")
    }

    final class Replay {
        var client: WorkboardClient
        let transport: ScriptedTransport
        let clock: ManualClock
        let seed: String
        var code: V1Code?
        init(client: WorkboardClient, transport: ScriptedTransport, clock: ManualClock, seed: String) {
            self.client = client; self.transport = transport; self.clock = clock; self.seed = seed
        }
    }

    func summary(_ c: WorkboardClient) throws -> [String: Any] {
        let j = try JSONSerialization.jsonObject(with: Data(c.credentialsJson()!.utf8)) as! [String: Any]
        var out: [String: Any] = [:]
        for k in ["access_token", "refresh_token", "token_type", "scope", "expires_at_ms"] { out[k] = j[k] ?? NSNull() }
        return out
    }

    func runOp(_ r: Replay, _ op: String, _ a: [String: Any]) async throws -> Any {
        let c = r.client
        func s(_ k: String) -> String? { a[k] as? String }
        switch op {
        case "mcp_oauth_start":
            // A client is bound to one MCP server: the sign-in to another one is that server's client's.
            var c = c
            if let url = s("server_url") {
                c = try WorkboardClient(options: ClientOptions(mcpUrl: url, entropySeedHex: r.seed, allowClientSecret: true),
                                        transport: r.transport, clock: r.clock)
                r.client = c
            }
            let st = try await c.startMcpSignIn(options: McpSignInOptions(
                redirectUri: s("redirect_uri")!, serverUrl: s("server_url"), clientId: s("client_id"),
                clientSecret: s("client_secret"), clientMetadataUrl: s("client_metadata_url"),
                wwwAuthenticate: s("www_authenticate"), workboardEnvironment: s("workboard_environment")))
            return ["authorize_url": st.url, "client_id": st.clientId, "token_endpoint_auth": st.tokenEndpointAuth,
                    "allowance": st.allowance as Any? ?? NSNull()]
        case "mcp_oauth_redirect":
            _ = try await c.completeMcpSignIn(pendingJson: nil, redirect: s("input")!)
            return try summary(c)
        case "mcp_refresh":
            _ = try await c.refreshMcpCredentials()
            return try summary(c)
        case "mcp_step_up":
            return ["authorize_url": try c.stepUpMcpSignIn(scope: s("scope")!).url]
        case "mcp_revoke":
            return ["requests": Int(try await c.revokeMcpCredentials())]
        case "v1_authorize":
            let st = try c.startV1SignIn(options: V1SignInOptions(
                clientId: s("client_id")!, redirectUri: s("redirect_uri")!, scopes: a["scopes"] as? [String] ?? [],
                jsonCode: a["json_code"] as? Bool ?? false, environment: s("environment")))
            return ["url": st.url]
        case "v1_handle_redirect":
            r.code = try c.handleV1Redirect(pendingJson: nil, redirect: s("input")!)
            return ["code_received": true]
        case "v1_exchange_code":
            let sm = try await c.exchangeV1Code(code: r.code!, clientHash: s("client_hash")!)
            return ["token_type": sm.tokenType, "scope": sm.scope as Any? ?? NSNull(),
                    "expires_at_ms": sm.expiresAtMs.map { NSNumber(value: $0) as Any } ?? NSNull(), "has_refresh": sm.hasRefreshToken]
        case "v1_revoke":
            return ["outcome": try await c.revokeV1Credentials()]
        case "connect":
            var opts = ClientOptions(mcpUrl: s("server_url"), entropySeedHex: r.seed, allowClientSecret: true,
                                     clientName: "workboard-vectors", clientVersion: "1.0")
            if let t = s("token") {
                opts.token = t
            } else if let at = s("access_token") {
                var creds: [String: Any] = ["kind": "oauth", "access_token": at, "token_type": "Bearer",
                                            "issued_at_ms": r.clock.nowMs(), "dialect": "o_auth2"]
                if let rt = s("refresh_token") { creds["refresh_token"] = rt }
                if let e = a["expires_at_ms"] as? NSNumber { creds["expires_at_ms"] = e }
                let ctx: [String: Any] = [
                    "server_url": s("server_url")!, "resource": s("server_url")!, "issuer": "https://auth.example.com",
                    "authorization_endpoint": "https://auth.example.com/authorize", "token_endpoint": s("token_endpoint")!,
                    "token_endpoint_auth": "none", "client_id": s("client_id")!, "identity_source": "pre_registered",
                    "redirect_uri": "https://app.example/cb", "iss_parameter_supported": false, "legacy_defaults": false,
                ]
                opts.credentialsJson = String(decoding: try JSONSerialization.data(withJSONObject: creds), as: UTF8.self)
                opts.authContextJson = String(decoding: try JSONSerialization.data(withJSONObject: ctx), as: UTF8.self)
            }
            let input = a["input"] as? [String: Any] ?? [:]
            if input["elicitation_url"] != nil { opts.elicitationUrlMode = true }
            r.client = try WorkboardClient(
                options: opts, transport: r.transport, clock: r.clock,
                elicitation: input["elicitation"] != nil || input["elicitation_url"] != nil ? VectorElicitation(input) : nil,
                sampling: (input["sampling"] as? [String: Any]).map { VectorSampling($0) },
                roots: (input["roots"] as? [String: Any]).map { VectorRoots($0) })
            return [String: Any]()
        case "list_tools":
            return ["names": try await c.listTools().map { $0.name }]
        case "call_tool":
            let args = try JSONSerialization.data(withJSONObject: a["arguments"] as? [String: Any] ?? [:])
            let res = try await c.callTool(name: s("name")!, argumentsJson: String(decoding: args, as: UTF8.self))
            let structured: Any = try res.structuredContentJson.map { try JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) } ?? NSNull()
            return ["is_error": res.isError, "text": res.text, "structured": structured]
        case "close":
            try await c.close()
            return [String: Any]()
        case "ping":
            try await c.ping()
            return [String: Any]()
        case "discover":
            let d = try await c.discover()
            let info: Any = d.serverName.map { ["name": $0, "version": d.serverVersion ?? ""] as Any } ?? NSNull()
            return ["modern": d.modern, "supported_versions": d.supportedVersions, "protocol_version": d.protocolVersion,
                    "server_info": info, "capabilities": try JSONSerialization.jsonObject(with: Data(d.capabilitiesJson.utf8))]
        case "list_resources":
            return ["uris": try await c.listResources().map { $0.uri }]
        case "list_resource_templates":
            return ["uri_templates": try await c.listResourceTemplates().map { $0.uriTemplate }]
        case "read_resource":
            return ["contents": try await c.readResource(uri: s("uri")!).map { x -> [String: Any] in
                ["uri": x.uri, "mime_type": x.mimeType as Any? ?? NSNull(), "text": x.text as Any? ?? NSNull(), "blob": x.blob as Any? ?? NSNull()]
            }]
        case "list_prompts":
            return ["names": try await c.listPrompts().map { $0.name }]
        case "get_prompt":
            let p = try await c.getPrompt(name: s("name")!, arguments: a["arguments"] as? [String: String])
            return ["description": p.description as Any? ?? NSNull(),
                    "messages": try p.messages.map { m -> [String: Any] in
                        ["role": m.role, "content": try JSONSerialization.jsonObject(with: Data(m.contentJson.utf8))]
                    }]
        case "complete":
            let ref = a["ref"] as! [String: Any]
            let reference: McpCompletionRef = ref["type"] as? String == "ref/prompt"
                ? .prompt(name: ref["name"] as! String) : .resourceTemplate(uri: ref["uri"] as! String)
            let r = try await c.complete(reference: reference, argument: s("argument")!, value: s("value")!,
                                         context: a["context"] as? [String: String])
            return ["values": r.values, "total": r.total.map { NSNumber(value: $0) as Any } ?? NSNull(), "has_more": r.hasMore]
        case "subscribe":
            let f = a["filter"] as? [String: Any] ?? [:]
            let filter = McpSubscriptionFilter(
                toolsListChanged: f["tools_list_changed"] as? Bool ?? false,
                promptsListChanged: f["prompts_list_changed"] as? Bool ?? false,
                resourcesListChanged: f["resources_list_changed"] as? Bool ?? false,
                resourceUris: f["resource_subscriptions"] as? [String] ?? [])
            var notes: [[String: Any]] = []
            for try await n in c.subscribe(filter: filter) {
                notes.append(["method": n.method, "params": try JSONSerialization.jsonObject(with: Data(n.paramsJson.utf8))])
            }
            return ["notifications": notes]
        case "request":
            let params = try jsonText(a["params"] as? [String: Any] ?? [:])
            let result = try await c.request(method: s("method")!, paramsJson: params)
            return ["result": try JSONSerialization.jsonObject(with: Data(result.utf8), options: .fragmentsAllowed)]
        default:
            throw NSError(domain: "replay", code: 1, userInfo: [NSLocalizedDescriptionKey: "unsupported op \(op)"])
        }
    }

    func testReplayEveryVector() async throws {
        let files = try FileManager.default.contentsOfDirectory(at: vectorsDir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        var replayed = 0
        for file in files {
            let v = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
            let steps = v["steps"] as! [[String: Any]]
            let ops = Set(steps.map { $0["op"] as! String })
            // Every vector is replayed: an op this binding cannot express fails the test.
            guard ops.isSubset(of: Self.supported) else {
                XCTFail("\(file.lastPathComponent): ops this binding cannot replay: \(ops.subtracting(Self.supported))")
                continue
            }
            let seed = v["seed"] as! String
            let clock = ManualClock(startMs: (v["start_ms"] as! NSNumber).uint64Value)
            let transport = ScriptedTransport()
            let client = try WorkboardClient(options: ClientOptions(entropySeedHex: seed, allowClientSecret: true), transport: transport, clock: clock)
            let r = Replay(client: client, transport: transport, clock: clock, seed: seed)
            for (i, step) in steps.enumerated() {
                let op = step["op"] as! String
                let where_ = "\(file.lastPathComponent) step \(i) (\(op))"
                clock.advanceMs(ms: (step["advance_ms"] as? NSNumber)?.uint64Value ?? 0)
                transport.load(step["exchanges"] as? [[String: Any]] ?? [])
                var got: [String: Any]
                do {
                    got = ["ok": try await runOp(r, op, step["args"] as? [String: Any] ?? [:])]
                } catch WorkboardError.Failed(let code, _, _, _) {
                    got = ["error": code]
                }
                // An answer to a server's request may still be on its way when the call's
                // result is in: wait for the scripted exchanges a little (bounded), never longer.
                let deadline = Date().addingTimeInterval(2)
                while !transport.script.isEmpty && Date() < deadline { try await Task.sleep(nanoseconds: 5_000_000) }
                XCTAssertTrue(transport.failures.isEmpty, "\(where_): \(transport.failures)")
                XCTAssertTrue(transport.script.isEmpty, "\(where_): scripted exchanges not sent")
                XCTAssertTrue(jsonMatches(step["expect"], got), "\(where_): expected \(step["expect"]!), got \(got)")
            }
            replayed += 1
        }
        XCTAssertGreaterThanOrEqual(replayed, 17)
        XCTAssertEqual(replayed, files.count)
    }
}

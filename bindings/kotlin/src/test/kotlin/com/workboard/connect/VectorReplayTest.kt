package com.workboard.connect

import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.Test
import java.io.File
import java.util.ArrayDeque

/**
 * Replays every transcript in tests/vectors through the Kotlin API with a scripted
 * Kotlin [Transport]: each request must equal the transcript's byte for byte (method, URL,
 * headers in order, body) and the results must match.
 */
class VectorReplayTest {
    /** Ops this binding replays. Other ops are listed in bindings/kotlin/README.md. */
    private val supportedOps = setOf(
        "mcp_oauth_start", "mcp_oauth_redirect", "mcp_refresh", "mcp_step_up", "mcp_revoke",
        "v1_authorize", "v1_handle_redirect", "v1_exchange_code", "v1_revoke",
        "connect", "list_tools", "call_tool", "close", "ping", "discover",
        "list_resources", "list_resource_templates", "read_resource", "list_prompts", "get_prompt", "complete",
        "subscribe", "request",
    )

    /** `connect`'s `input`: each handler answers with the vector's answer for its kind. */
    class Elicitation(private val input: JSONObject) : ElicitationHandler {
        override suspend fun elicit(request: McpElicitation): McpElicitationResult {
            val a = input.getJSONObject(if (request.mode == "url") "elicitation_url" else "elicitation")
            return McpElicitationResult(
                McpElicitationAction.valueOf(a.getString("action").uppercase()),
                a.optJSONObject("content")?.toString(),
            )
        }
    }

    class Sampling(private val a: JSONObject) : SamplingHandler {
        override suspend fun createMessage(request: McpSamplingRequest): McpSamplingResult =
            McpSamplingResult(a.getString("role"), a.getJSONObject("content").toString(), a.getString("model"), a.optString("stopReason").ifEmpty { null })
    }

    class Roots(private val a: JSONObject) : RootsHandler {
        override suspend fun listRoots(): List<McpRoot> = a.getJSONArray("roots").let { r ->
            (0 until r.length()).map { McpRoot(r.getJSONObject(it).getString("uri"), r.getJSONObject(it).optString("name").ifEmpty { null }) }
        }
    }

    /** What carries from step to step within one vector. */
    class Replay(var client: WorkboardClient, val transport: Scripted, val clock: ManualClock, val seed: String) {
        var pendingJson: String? = null
        var code: V1Code? = null
    }

    class Scripted : Transport {
        val script = ArrayDeque<JSONObject>()
        val failures = java.util.Collections.synchronizedList(mutableListOf<String>())

        override suspend fun send(request: HttpRequest): HttpResponse {
            val headers = JSONArray(request.headers.map { JSONArray(listOf(it.name, it.value)) })
            val got = JSONObject()
                .put("method", request.method)
                .put("url", request.url)
                .put("headers", headers)
                .put("body", String(request.body, Charsets.UTF_8))
            // Requests the core issues together (e.g. `notifications/initialized` and the
            // first call) reach this multi-threaded host in either order: the first scripted
            // exchange equal to the request is taken. Each request must still equal one
            // exchange byte for byte, and every exchange must be used exactly once.
            val ex = synchronized(script) {
                val match = script.firstOrNull { jsonMatches(it.getJSONObject("request"), got) }
                if (match != null) script.remove(match)
                match
            }
            if (ex == null) {
                failures.add("request differs from every remaining exchange:\n  got  $got\n  remaining ${script.map { it.getJSONObject("request") }}")
                throw HostException.Other("no scripted exchange matches")
            }
            val r = ex.getJSONObject("response")
            if (r.has("transport_error")) {
                when (r.getString("transport_error")) {
                    "connect" -> throw HostException.Connect("scripted")
                    "timeout" -> throw HostException.Timeout()
                    else -> throw HostException.Interrupted("scripted")
                }
            }
            val hs = r.optJSONArray("headers") ?: JSONArray()
            return HttpResponse(
                r.getInt("status").toUShort(),
                (0 until hs.length()).map { HttpHeader(hs.getJSONArray(it).getString(0), hs.getJSONArray(it).getString(1)) },
                r.optString("body", "").toByteArray(Charsets.UTF_8),
            )
        }
    }

    private fun vectorFiles(): List<File> =
        File(repoRoot(), "tests/vectors").listFiles { f -> f.name.endsWith(".json") }!!.sortedBy { it.name }

    private fun summary(client: WorkboardClient): JSONObject {
        val c = JSONObject(client.credentialsJson() ?: error("no credentials"))
        return JSONObject()
            .put("access_token", c.get("access_token"))
            .put("refresh_token", c.opt("refresh_token") ?: JSONObject.NULL)
            .put("token_type", c.get("token_type"))
            .put("scope", c.opt("scope") ?: JSONObject.NULL)
            .put("expires_at_ms", c.opt("expires_at_ms") ?: JSONObject.NULL)
    }

    private fun arg(a: JSONObject, k: String): String? = if (a.has(k) && !a.isNull(k)) a.getString(k) else null

    /** A JSON object of strings as a map (absent: null). */
    private fun strings(o: JSONObject?): Map<String, String>? = o?.let { j -> j.keySet().associateWith { j.getString(it) } }

    private suspend fun runOp(r: Replay, op: String, a: JSONObject): Any {
        val client = r.client
        return when (op) {
        "v1_authorize" -> {
            val scopes = a.optJSONArray("scopes")?.let { s -> (0 until s.length()).map { s.getString(it) } } ?: emptyList()
            val s = client.startV1SignIn(
                V1SignInOptions(
                    clientId = a.getString("client_id"),
                    redirectUri = a.getString("redirect_uri"),
                    scopes = scopes,
                    jsonCode = a.optBoolean("json_code", false),
                    environment = arg(a, "environment"),
                ),
            )
            r.pendingJson = s.pendingJson
            JSONObject().put("url", s.url)
        }
        "v1_handle_redirect" -> {
            r.code = client.handleV1Redirect(null, a.getString("input"))
            JSONObject().put("code_received", true)
        }
        "v1_exchange_code" -> {
            val s = client.exchangeV1Code(r.code ?: error("no code"), a.getString("client_hash"))
            JSONObject().put("token_type", s.tokenType).put("scope", s.scope ?: JSONObject.NULL)
                .put("expires_at_ms", s.expiresAtMs?.toLong() ?: JSONObject.NULL).put("has_refresh", s.hasRefreshToken)
        }
        "v1_revoke" -> JSONObject().put("outcome", client.revokeV1Credentials())
        "connect" -> {
            var opts = ClientOptions(
                mcpUrl = a.getString("server_url"), entropySeedHex = r.seed, allowClientSecret = true,
                clientName = "workboard-vectors", clientVersion = "1.0",
            )
            if (a.has("token")) {
                opts = opts.copy(token = a.getString("token"))
            } else if (a.has("access_token")) {
                val creds = JSONObject().put("kind", "oauth").put("access_token", a.getString("access_token"))
                    .put("token_type", "Bearer").put("issued_at_ms", r.clock.nowMs().toLong()).put("dialect", "o_auth2")
                if (!a.isNull("refresh_token")) creds.put("refresh_token", a.get("refresh_token"))
                if (a.has("expires_at_ms") && !a.isNull("expires_at_ms")) creds.put("expires_at_ms", a.getLong("expires_at_ms"))
                // A public client's saved OAuth context (the authContextJson format).
                val ctx = JSONObject().put("server_url", a.getString("server_url")).put("resource", a.getString("server_url"))
                    .put("issuer", "https://auth.example.com").put("authorization_endpoint", "https://auth.example.com/authorize")
                    .put("token_endpoint", a.getString("token_endpoint")).put("token_endpoint_auth", "none")
                    .put("client_id", a.getString("client_id")).put("identity_source", "pre_registered")
                    .put("redirect_uri", "https://app.example/cb").put("iss_parameter_supported", false).put("legacy_defaults", false)
                opts = opts.copy(credentialsJson = creds.toString(), authContextJson = ctx.toString())
            }
            val input = a.optJSONObject("input") ?: JSONObject()
            if (input.has("elicitation_url")) opts = opts.copy(elicitationUrlMode = true)
            r.client = WorkboardClient(
                opts, transport = r.transport, clock = r.clock,
                elicitation = if (input.has("elicitation") || input.has("elicitation_url")) Elicitation(input) else null,
                sampling = input.optJSONObject("sampling")?.let { Sampling(it) },
                roots = input.optJSONObject("roots")?.let { Roots(it) },
            )
            JSONObject()
        }
        "list_tools" -> JSONObject().put("names", JSONArray(client.listTools().map { it.name }))
        "call_tool" -> {
            val res = client.callTool(a.getString("name"), (a.optJSONObject("arguments") ?: JSONObject()).toString())
            JSONObject().put("is_error", res.isError).put("text", res.text)
                .put("structured", res.structuredContentJson?.let { JSONObject(it) } ?: JSONObject.NULL)
        }
        "close" -> { client.disconnect(); JSONObject() }
        "ping" -> { client.ping(); JSONObject() }
        "discover" -> {
            val d = client.discover()
            val info = d.serverName?.let { JSONObject().put("name", it).put("version", d.serverVersion) }
            JSONObject().put("modern", d.modern).put("supported_versions", JSONArray(d.supportedVersions))
                .put("protocol_version", d.protocolVersion).put("server_info", info ?: JSONObject.NULL)
                .put("capabilities", JSONObject(d.capabilitiesJson))
        }
        "list_resources" -> JSONObject().put("uris", JSONArray(client.listResources().map { it.uri }))
        "list_resource_templates" -> JSONObject().put("uri_templates", JSONArray(client.listResourceTemplates().map { it.uriTemplate }))
        "read_resource" -> JSONObject().put("contents", JSONArray(client.readResource(a.getString("uri")).map {
            JSONObject().put("uri", it.uri).put("mime_type", it.mimeType ?: JSONObject.NULL)
                .put("text", it.text ?: JSONObject.NULL).put("blob", it.blob ?: JSONObject.NULL)
        }))
        "list_prompts" -> JSONObject().put("names", JSONArray(client.listPrompts().map { it.name }))
        "get_prompt" -> {
            val p = client.getPrompt(a.getString("name"), strings(a.optJSONObject("arguments")))
            JSONObject().put("description", p.description ?: JSONObject.NULL).put("messages", JSONArray(p.messages.map {
                JSONObject().put("role", it.role).put("content", JSONObject(it.contentJson))
            }))
        }
        "complete" -> {
            val ref = a.getJSONObject("ref")
            val reference = if (ref.getString("type") == "ref/prompt") McpCompletionRef.Prompt(ref.getString("name"))
            else McpCompletionRef.ResourceTemplate(ref.getString("uri"))
            val c = client.complete(reference, a.getString("argument"), a.getString("value"), strings(a.optJSONObject("context")))
            JSONObject().put("values", JSONArray(c.values)).put("total", c.total?.toLong() ?: JSONObject.NULL).put("has_more", c.hasMore)
        }
        "subscribe" -> {
            val f = a.optJSONObject("filter") ?: JSONObject()
            val uris = f.optJSONArray("resource_subscriptions")?.let { u -> (0 until u.length()).map { u.getString(it) } } ?: emptyList()
            val filter = McpSubscriptionFilter(
                toolsListChanged = f.optBoolean("tools_list_changed"), promptsListChanged = f.optBoolean("prompts_list_changed"),
                resourcesListChanged = f.optBoolean("resources_list_changed"), resourceUris = uris,
            )
            val notes = client.subscriptionFlow(filter).toList()
            JSONObject().put("notifications", JSONArray(notes.map { JSONObject().put("method", it.method).put("params", JSONObject(it.paramsJson)) }))
        }
        "request" -> JSONObject().put("result", JSONObject(client.request(a.getString("method"), (a.optJSONObject("params") ?: JSONObject()).toString())))
        "mcp_oauth_start" -> {
            // A client is bound to one MCP server: the sign-in to another one is that server's client's.
            val client = arg(a, "server_url")?.let { url ->
                WorkboardClient(ClientOptions(mcpUrl = url, entropySeedHex = r.seed, allowClientSecret = true), transport = r.transport, clock = r.clock)
                    .also { r.client = it }
            } ?: client
            val s = client.startMcpSignIn(
                McpSignInOptions(
                    redirectUri = a.getString("redirect_uri"),
                    serverUrl = arg(a, "server_url"),
                    clientId = arg(a, "client_id"),
                    clientSecret = arg(a, "client_secret"),
                    clientMetadataUrl = arg(a, "client_metadata_url"),
                    wwwAuthenticate = arg(a, "www_authenticate"),
                    workboardEnvironment = arg(a, "workboard_environment"),
                ),
            )
            JSONObject().put("authorize_url", s.url).put("client_id", s.clientId)
                .put("token_endpoint_auth", s.tokenEndpointAuth).put("allowance", s.allowance ?: JSONObject.NULL)
        }
        "mcp_oauth_redirect" -> { client.completeMcpSignIn(null, a.getString("input")); summary(client) }
        "mcp_refresh" -> { client.refreshMcpCredentials(); summary(client) }
        "mcp_step_up" -> JSONObject().put("authorize_url", client.stepUpMcpSignIn(a.getString("scope")).url)
        "mcp_revoke" -> JSONObject().put("requests", client.revokeMcpCredentials().toLong())
        else -> error("unsupported op $op")
        }
    }

    private fun replay(file: File) = runBlocking {
        val v = JSONObject(file.readText())
        val clock = ManualClock(v.getLong("start_ms").toULong())
        val transport = Scripted()
        val client = WorkboardClient(
            ClientOptions(entropySeedHex = v.getString("seed"), allowClientSecret = true),
            transport = transport,
            clock = clock,
        )
        val r = Replay(client, transport, clock, v.getString("seed"))
        val steps = v.getJSONArray("steps")
        for (i in 0 until steps.length()) {
            val step = steps.getJSONObject(i)
            val op = step.getString("op")
            clock.advanceMs(step.optLong("advance_ms", 0).toULong())
            val exchanges = step.optJSONArray("exchanges") ?: JSONArray()
            synchronized(transport.script) {
                transport.script.clear()
                for (j in 0 until exchanges.length()) transport.script.add(exchanges.getJSONObject(j))
            }
            val got: JSONObject = try {
                JSONObject().put("ok", runOp(r, op, step.optJSONObject("args") ?: JSONObject()))
            } catch (e: WorkboardException.Failed) {
                JSONObject().put("error", e.code)
            }
            val where = "${file.name} step $i ($op)"
            // An answer to a server's request may still be on its way when the call's result
            // is in: wait for the scripted exchanges a little (bounded), never longer.
            val deadline = System.nanoTime() + 2_000_000_000L
            while (synchronized(transport.script) { transport.script.isNotEmpty() } && System.nanoTime() < deadline) delay(5)
            assertTrue(transport.failures.isEmpty(), "$where: ${transport.failures}")
            assertTrue(transport.script.isEmpty(), "$where: ${transport.script.size} scripted exchange(s) not sent")
            assertTrue(jsonMatches(step.getJSONObject("expect"), got), "$where: expected ${step.get("expect")}, got $got")
        }
        r.client.close()
    }

    @TestFactory
    fun replayEveryVector(): List<DynamicTest> = vectorFiles().map { f ->
        DynamicTest.dynamicTest(f.name) {
            val ops = JSONObject(f.readText()).getJSONArray("steps").let { s -> (0 until s.length()).map { s.getJSONObject(it).getString("op") } }
            val missing = ops.filter { it !in supportedOps }.toSet()
            // Every vector is replayed: an op this binding cannot express fails the test.
            assertTrue(missing.isEmpty(), "${f.name}: ops this binding cannot replay: $missing")
            replay(f)
        }
    }

    @Test
    fun everyVectorIsReplayable() {
        val files = vectorFiles()
        val notReplayable = files.filterNot { f ->
            val s = JSONObject(f.readText()).getJSONArray("steps")
            (0 until s.length()).all { s.getJSONObject(it).getString("op") in supportedOps }
        }.map { it.name }
        assertTrue(files.size >= 17, "expected the shared vectors, found ${files.size}")
        assertTrue(notReplayable.isEmpty(), "vectors with ops this binding cannot replay: $notReplayable")
    }

    @Test
    fun theReplayerKnowsEveryOperationOfTheFormat() {
        // The operations table of tests/vectors/README.md, and the modern-era and newer legacy
        // vectors among the files replayed.
        val readme = File(repoRoot(), "tests/vectors/README.md").readText()
        val table = Regex("^\\| `([a-z0-9_]+)` \\| `?\\{", RegexOption.MULTILINE).findAll(readme).map { it.groupValues[1] }.toSet()
        assertTrue(table.size >= 20 && table == supportedOps, "differ: ${(table - supportedOps) + (supportedOps - table)}")
        val names = vectorFiles().map { it.name }.toSet()
        assertTrue(names.containsAll(listOf("mcp_legacy_resources_prompts.json", "mcp_server_requests_on_stream.json")), "$names")
        assertTrue(names.count { it.startsWith("mcp_modern_") } >= 8, "$names")
    }

    @Test
    fun aRequestThatDiffersIsCaught(): Unit = runBlocking {
        // The replayer itself must be able to fail: a transcript with a wrong URL.
        val f = vectorFiles().first { it.name.startsWith("mcpauth_refresh_rotation") }
        val v = JSONObject(f.readText())
        val transport = Scripted()
        val first = v.getJSONArray("steps").getJSONObject(0)
        val ex = first.getJSONArray("exchanges").getJSONObject(0)
        ex.getJSONObject("request").put("url", "https://elsewhere.example/")
        transport.script.add(ex)
        val client = WorkboardClient(ClientOptions(entropySeedHex = v.getString("seed"), allowClientSecret = true), transport = transport, clock = ManualClock(v.getLong("start_ms").toULong()))
        try { runOp(Replay(client, transport, ManualClock(0uL), v.getString("seed")), "mcp_oauth_start", first.getJSONObject("args")) } catch (_: WorkboardException) {}
        assertEquals(1, transport.failures.count { it.startsWith("request differs") })
    }
}

package com.workboard.connect

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.net.URI
import java.util.Collections
import java.util.concurrent.ConcurrentHashMap

/**
 * The client-layer behaviour suite (the JSON files of tests/behaviour, format in its README) run through
 * the Kotlin API: a scripted server as a Kotlin [Transport], a recording [CredentialStore], a
 * [ManualClock]. Fails on an unknown operation or field; checks that every file ran.
 */
class BehaviourTest {
    private fun scenarioFiles(): List<File> =
        File(repoRoot(), "tests/behaviour").listFiles { f -> f.name.endsWith(".json") }!!.sortedBy { it.name }

    @Test
    fun everyScenarioPasses() {
        val files = scenarioFiles()
        assertTrue(files.size >= 9, "scenarios missing: ${files.map { it.name }}")
        val ran = mutableListOf<String>()
        val failed = mutableListOf<String>()
        for (f in files) {
            try {
                Scenario(f.nameWithoutExtension, JSONObject(f.readText())).run()
                ran.add(f.nameWithoutExtension)
            } catch (e: Throwable) {
                failed.add("${f.name}: $e")
            }
        }
        assertEquals(emptyList<String>(), failed)
        assertEquals(files.map { it.nameWithoutExtension }, ran)
    }

    @Test
    fun theRunnerRefusesUnknownOperationsAndFields() {
        val f = scenarioFiles().first()
        fun run(step: JSONObject) = assertThrows<IllegalStateException> {
            Scenario(f.nameWithoutExtension, JSONObject(f.readText()).put("steps", JSONArray().put(step))).run()
        }.message!!
        assertTrue(run(JSONObject().put("do", "teleport")).contains("unknown operation"))
        assertTrue(run(JSONObject().put("do", "hold").put("how", "firmly")).contains("unknown field"))
    }
}

/** Fails unless every key of `o` is one of `known`. */
private fun checkKeys(o: JSONObject?, known: Set<String>, what: String) {
    for (k in o?.keySet() ?: emptySet()) check(k in known) { "unknown field `$k` in $what" }
}

private fun str(o: JSONObject, k: String): String? = if (o.has(k) && !o.isNull(k)) o.getString(k) else null

/** `http` log name and bearer of a request. */
private fun logName(r: HttpRequest): Pair<String, String> {
    val bearer = r.headers.firstOrNull { it.name.equals("Authorization", ignoreCase = true) }
        ?.value?.takeIf { it.startsWith("Bearer ") }?.removePrefix("Bearer ") ?: "-"
    val method = runCatching { JSONObject(String(r.body, Charsets.UTF_8)).optString("method", "") }
        .getOrDefault("").ifEmpty { null }
    val name = method ?: if (r.method == "POST" && r.url.endsWith("/token")) "token" else "${r.method} ${r.url}"
    return name to bearer
}

/** The scripted server: logs each request when asked to send it, answers from the rules. */
private class ScenarioTransport(private val rules: JSONArray, private val log: MutableList<String>) : Transport {
    private val used = IntArray(rules.length())
    val failures: MutableList<String> = Collections.synchronizedList(mutableListOf())
    /** Requests the transport was asked for. */
    val requests = MutableStateFlow(0)

    private data class Gate(val held: Boolean, val releases: Long)
    private val gate = MutableStateFlow(Gate(false, 0))

    fun hold() = gate.update { it.copy(held = true) }
    fun release() = gate.update { Gate(false, it.releases + 1) }

    override suspend fun send(request: HttpRequest): HttpResponse {
        val (name, bearer) = logName(request)
        log.add("http $name $bearer")
        val answer = synchronized(used) { answer(request, name, bearer) }
        // Read before the request is counted: a `release` the runner makes once it is
        // counted is the one a rule-held reply waits for.
        val seen = gate.value.releases
        requests.update { it + 1 }
        if (answer == null) {
            failures.add("no server rule fits $name $bearer")
            throw HostException.Other("no server rule fits")
        }
        val (reply, ruleHeld) = answer
        gate.first { !it.held && (!ruleHeld || it.releases != seen) }
        return reply
    }

    private fun answer(r: HttpRequest, name: String, bearer: String): Pair<HttpResponse, Boolean>? {
        for (i in 0 until rules.length()) {
            val rule = rules.getJSONObject(i)
            checkKeys(rule, setOf("match", "reply", "times", "hold"), "server rule")
            val m = rule.optJSONObject("match") ?: JSONObject()
            checkKeys(m, setOf("method", "auth", "url", "era", "input_responses", "request_state"), "match")
            val era = if (r.headers.any { it.name.equals("mcp-method", ignoreCase = true) }) "modern" else "legacy"
            val params = runCatching { JSONObject(String(r.body, Charsets.UTF_8)).optJSONObject("params") }.getOrNull() ?: JSONObject()
            val fits = (str(m, "method") ?: name) == name && (str(m, "auth") ?: bearer) == bearer &&
                (str(m, "url") ?: r.url) == r.url && (str(m, "era") ?: era) == era &&
                (!m.has("input_responses") || jsonMatches(m.get("input_responses"), params.opt("inputResponses") ?: JSONObject.NULL)) &&
                (!m.has("request_state") || jsonMatches(m.get("request_state"), params.opt("requestState") ?: JSONObject.NULL))
            val left = !rule.has("times") || used[i] < rule.getInt("times")
            if (fits && left) {
                used[i]++
                return reply(rule.getJSONObject("reply"), r) to rule.optBoolean("hold", false)
            }
        }
        return null
    }

    private fun reply(reply: JSONObject, r: HttpRequest): HttpResponse {
        checkKeys(reply, setOf("status", "headers", "result", "error", "json", "sse"), "reply")
        val headers = mutableListOf<HttpHeader>()
        reply.optJSONArray("headers")?.let { hs ->
            for (i in 0 until hs.length()) headers.add(HttpHeader(hs.getJSONArray(i).getString(0), hs.getJSONArray(i).getString(1)))
        }
        val id = runCatching { JSONObject(String(r.body, Charsets.UTF_8)).opt("id") }.getOrNull() ?: JSONObject.NULL
        reply.optJSONArray("sse")?.let { events ->
            // An SSE body: one event per message; `{"result": ...}` is the request's result.
            val sse = (0 until events.length()).joinToString("") { i ->
                val m = events.getJSONObject(i)
                val msg = if (m.keySet() == setOf("result")) JSONObject().put("jsonrpc", "2.0").put("id", id).put("result", m.get("result")) else m
                "data: $msg\n\n"
            }
            headers.add(HttpHeader("Content-Type", "text/event-stream"))
            return HttpResponse(reply.optInt("status", 200).toUShort(), headers, sse.toByteArray())
        }
        val body: Any? = when {
            reply.has("result") -> JSONObject().put("jsonrpc", "2.0").put("id", id).put("result", reply.get("result"))
            reply.has("error") -> JSONObject().put("jsonrpc", "2.0").put("id", id).put("error", reply.get("error"))
            reply.has("json") -> reply.get("json")
            else -> null
        }
        if (body != null) headers.add(HttpHeader("Content-Type", "application/json"))
        return HttpResponse(reply.optInt("status", 200).toUShort(), headers, body?.toString()?.toByteArray() ?: ByteArray(0))
    }
}

/** A recording store whose writes can be made to fail. */
private class RecordingStore(private val log: MutableList<String>) : CredentialStore {
    private val values = ConcurrentHashMap<String, String>()
    @Volatile var failing = false

    override fun load(key: String): String? = values[key]

    override fun save(key: String, value: String) {
        if (key == "credentials") {
            val v = JSONObject(value)
            log.add("store $key ${str(v, "access_token") ?: str(v, "token") ?: "?"}")
        } else {
            log.add("store $key")
        }
        if (failing) throw HostException.Other("disk full (scripted)")
        values[key] = value
    }

    override fun remove(key: String) {
        log.add("remove $key")
        if (failing) throw HostException.Other("disk full (scripted)")
        values.remove(key)
    }
}

/** One scenario file, run step by step. */
private class Scenario(private val name: String, private val s: JSONObject) {
    private val log: MutableList<String> = Collections.synchronizedList(mutableListOf())
    private val transport = ScenarioTransport(s.optJSONArray("server") ?: JSONArray(), log)
    private val store = RecordingStore(log)
    private val client: WorkboardClient
    private val calls = mutableMapOf<String, Deferred<JSONObject>>()
    private val streams = mutableMapOf<String, McpNotificationStream>()
    /** Started sign-ins: URL and pending JSON. */
    private val signIns = mutableMapOf<String, Pair<String, String>>()

    init {
        checkKeys(s, setOf("name", "description", "client", "server", "steps"), "scenario")
        check(s.getString("name") == name) { "file name and `name` differ" }
        val c = s.getJSONObject("client")
        checkKeys(c, setOf("server_url", "credentials", "auth_context", "allow_client_secret", "input"), "client")
        val input = c.optJSONObject("input") ?: JSONObject()
        checkKeys(input, setOf("elicitation", "elicitation_url", "sampling", "roots"), "input")
        client = WorkboardClient(
            ClientOptions(
                mcpUrl = c.getString("server_url"),
                credentialsJson = c.optJSONObject("credentials")?.toString(),
                authContextJson = c.optJSONObject("auth_context")?.toString(),
                allowClientSecret = c.optBoolean("allow_client_secret", false),
                elicitationUrlMode = input.has("elicitation_url"),
            ),
            transport = transport,
            store = store,
            clock = ManualClock(1_764_000_000_000uL),
            // The app's input handlers: each answers with the scenario's answer for its kind.
            elicitation = if (input.has("elicitation") || input.has("elicitation_url")) VectorReplayTest.Elicitation(input) else null,
            sampling = input.optJSONObject("sampling")?.let { VectorReplayTest.Sampling(it) },
            roots = input.optJSONObject("roots")?.let { VectorReplayTest.Roots(it) },
        )
    }

    private fun entries(): List<String> = synchronized(log) { log.toList() }

    private fun accessToken(): Any = client.credentialsJson()?.let { j ->
        JSONObject(j).let { str(it, "access_token") ?: str(it, "token") }
    } ?: JSONObject.NULL

    /** The outcome of `block` as `{"ok": …}` or `{"error": code, "kind": kind}`. */
    private suspend fun outcome(block: suspend () -> Any): JSONObject = try {
        JSONObject().put("ok", block())
    } catch (e: WorkboardException.Failed) {
        JSONObject().put("error", e.code).put("kind", e.kind.name.lowercase())
    }

    private fun checkExpect(at: String, expect: JSONObject, got: JSONObject) {
        checkKeys(expect, setOf("ok", "error", "kind"), "expect")
        if (expect.has("ok")) {
            check(got.has("ok") && jsonMatches(expect.get("ok"), got.get("ok"))) { "$at: expected $expect, got $got; log ${entries()}" }
        } else {
            check(got.has("error") && jsonMatches(expect.get("error"), got.get("error")) && jsonMatches(expect.get("kind"), got.get("kind"))) {
                "$at: expected $expect, got $got; log ${entries()}"
            }
        }
    }

    /** Starts a call; it is submitted when this returns (the coroutine runs undispatched up to its first suspension, after UniFFI's first poll). */
    private fun CoroutineScope.start(call: String, args: JSONObject?): Deferred<JSONObject> {
        val op: suspend () -> Any = when (call) {
            "list_tools" -> { { JSONObject().put("names", JSONArray(client.listTools().map { it.name })) } }
            "call_tool" -> {
                checkKeys(args, setOf("name", "arguments"), "args")
                val a = args!!
                { client.callTool(a.getString("name"), a.getJSONObject("arguments").toString()).let { JSONObject().put("text", it.text).put("is_error", it.isError) } }
            }
            "ping" -> { { client.ping(); JSONObject() } }
            "connect" -> { { client.connect(); JSONObject() } }
            "refresh" -> { { client.refreshMcpCredentials(); JSONObject().put("access_token", accessToken()) } }
            "close" -> { { client.disconnect(); JSONObject() } }
            "request" -> {
                checkKeys(args, setOf("method", "params"), "args")
                val a = args!!
                { JSONObject().put("result", JSONObject(client.request(a.getString("method"), a.getJSONObject("params").toString()))) }
            }
            else -> error("unknown call `$call`")
        }
        return async(start = CoroutineStart.UNDISPATCHED) { outcome(op) }
    }

    fun run() = runBlocking {
        val steps = s.getJSONArray("steps")
        for (i in 0 until steps.length()) {
            val step = steps.getJSONObject(i)
            val op = step.getString("do")
            val at = "$name step $i ($op)"
            fun keys(vararg k: String) = checkKeys(step, setOf("do", *k), at)
            when (op) {
                "call" -> { keys("id", "call", "args"); calls[step.getString("id")] = start(step.getString("call"), step.optJSONObject("args")) }
                "await" -> {
                    keys("id", "expect")
                    val call = calls.remove(step.getString("id")) ?: error("$at: no such call")
                    checkExpect(at, step.getJSONObject("expect"), withTimeout(30_000) { call.await() })
                }
                "cancel" -> { keys("id"); check(step.getString("id") in calls) { "$at: no such call" }; client.cancelCalls() }
                "notifications" -> { keys("id"); streams[step.getString("id")] = client.notifications() }
                "next_notification" -> {
                    keys("id", "notification")
                    val n = withTimeout(30_000) { (streams[step.getString("id")] ?: error("$at: no such stream")).next() }
                    val got: Any = n?.let { JSONObject().put("method", it.method).put("params", JSONObject(it.paramsJson)) } ?: JSONObject.NULL
                    check(jsonMatches(step.get("notification"), got)) { "$at: expected ${step.get("notification")}, got $got" }
                }
                "stop" -> { keys("id"); (streams[step.getString("id")] ?: error("$at: no such stream")).cancel() }
                "hold" -> { keys(); transport.hold() }
                "release" -> { keys(); transport.release() }
                "until_requests" -> { keys("count"); val n = step.getInt("count"); withTimeout(30_000) { transport.requests.first { it >= n } } }
                "store_fails" -> { keys("value"); store.failing = step.getBoolean("value") }
                "set_credentials" -> {
                    keys("credentials", "expect")
                    val got = outcome {
                        val c = step.optJSONObject("credentials")
                        if (c == null) client.clearCredentials() else client.setCredentialsJson(c.toString())
                        JSONObject()
                    }
                    checkExpect(at, step.getJSONObject("expect"), got)
                }
                "start_mcp_sign_in" -> {
                    keys("id", "options", "expect")
                    val o = step.getJSONObject("options")
                    checkKeys(o, setOf("redirect_uri", "client_id", "www_authenticate"), "options")
                    var started: McpSignInStart? = null
                    val got = outcome {
                        val st = client.startMcpSignIn(McpSignInOptions(redirectUri = o.getString("redirect_uri"), clientId = str(o, "client_id"), wwwAuthenticate = str(o, "www_authenticate")))
                        started = st
                        JSONObject().put("client_id", st.clientId)
                    }
                    checkExpect(at, step.getJSONObject("expect"), got)
                    started?.let { signIns[step.getString("id")] = it.url to it.pendingJson }
                }
                "complete_mcp_sign_in" -> {
                    keys("sign_in", "pass_pending", "code", "expect")
                    val (url, pending) = signIns[step.getString("sign_in")] ?: error("$at: no such sign-in")
                    val q = URI(url).rawQuery.split("&").associate { it.substringBefore("=") to java.net.URLDecoder.decode(it.substringAfter("="), "UTF-8") }
                    val redirect = "${q["redirect_uri"]}?code=${step.getString("code")}&state=${q["state"]}"
                    val got = outcome {
                        client.completeMcpSignIn(if (step.getBoolean("pass_pending")) pending else null, redirect)
                        JSONObject().put("access_token", accessToken())
                    }
                    checkExpect(at, step.getJSONObject("expect"), got)
                }
                "exchange_v1_code" -> {
                    keys("code", "client_hash", "expect")
                    val c = step.getJSONObject("code")
                    checkKeys(c, setOf("code", "redirect_uri", "client_id", "token_endpoint", "received_at_ms"), "code")
                    val received = c.getLong("received_at_ms").toULong()
                    val code = V1Code(c.getString("code"), c.getString("redirect_uri"), c.getString("client_id"), c.getString("token_endpoint"), emptyList(), received, received + 300_000uL)
                    val got = outcome {
                        client.exchangeV1Code(code, step.getString("client_hash"))
                        JSONObject().put("access_token", accessToken())
                    }
                    checkExpect(at, step.getJSONObject("expect"), got)
                }
                "expect_log" -> {
                    keys("log")
                    val want = step.getJSONArray("log").let { a -> (0 until a.length()).map { a.getString(it) } }
                    assertEquals(want, entries(), at)
                }
                "expect_count" -> { keys("entry", "count"); assertEquals(step.getInt("count"), entries().count { it == step.getString("entry") }, "$at: ${entries()}") }
                "expect_before" -> {
                    keys("first", "then")
                    val l = entries()
                    val a = l.indexOf(step.getString("first"))
                    val b = l.lastIndexOf(step.getString("then"))
                    assertTrue(a >= 0 && b >= 0 && a < b, "$at: $l")
                }
                "expect_credentials" -> { keys("access_token"); assertEquals(step.get("access_token"), accessToken(), at) }
                "expect_store_error" -> {
                    keys("code")
                    assertEquals(step.get("code"), (client.storeError() as WorkboardException.Failed?)?.code ?: JSONObject.NULL, at)
                }
                else -> error("$at: unknown operation `$op`")
            }
            assertEquals(emptyList<String>(), transport.failures, at)
        }
        check(calls.isEmpty()) { "$name: calls never awaited: ${calls.keys}" }
        streams.values.forEach { it.close() }
        client.close()
    }
}

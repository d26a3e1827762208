package com.workboard.connect

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.net.URI

/** API surface, v1 sign-in without a server, and bad input (typed errors, never a crash). */
class ClientTest {
    private val seed = "07".repeat(32)
    private val redirect = "https://app.example/callback"

    private fun client(clock: ManualClock = ManualClock(1_764_000_000_000uL), store: CredentialStore? = null) =
        WorkboardClient(ClientOptions(entropySeedHex = seed), clock = clock, store = store)

    private fun query(url: String): Map<String, String> =
        URI(url).rawQuery.split("&").associate { it.substringBefore("=") to java.net.URLDecoder.decode(it.substringAfter("="), "UTF-8") }

    @Test
    fun versionIsTheCrateVersion() {
        assertEquals("0.1.0", version())
    }

    @Test
    fun errorsCarryCodeDetailAndHint() {
        val e = assertThrows<WorkboardException.Failed> { parseCredentials("{\"kind\":") }
        assertEquals("invalid_input", e.code)
        assertTrue(e.detail.contains("stored credentials"), e.detail)
        val denied = assertThrows<WorkboardException.Failed> {
            val c = client()
            val start = c.startV1SignIn(V1SignInOptions(clientId = "cid", redirectUri = redirect))
            c.handleV1Redirect(start.pendingJson, "$redirect?error=access_denied&state=${query(start.url)["state"]}")
        }
        assertEquals("authorization_denied", denied.code)
        assertTrue(denied.hint!!.contains("declined"))
    }

    @Test
    fun errorsCarryTheirKind(): Unit = runBlocking {
        fun kind(block: () -> Unit) = assertThrows<WorkboardException.Failed> { block() }.kind
        // What an app does with it: an exhaustive `when` over the enum.
        fun action(k: ErrorKind): String = when (k) {
            ErrorKind.NEEDS_SIGN_IN, ErrorKind.STEP_UP_REQUIRED, ErrorKind.SIGN_IN_FAILED -> "sign in"
            ErrorKind.NETWORK, ErrorKind.TIMEOUT, ErrorKind.RATE_LIMITED, ErrorKind.SERVER -> "retry later"
            ErrorKind.INVALID_INPUT, ErrorKind.WRONG_STATE -> "fix the call"
            ErrorKind.UNAUTHORIZED, ErrorKind.PROTOCOL, ErrorKind.CANCELLED, ErrorKind.STOPPED,
            ErrorKind.STORAGE, ErrorKind.INTERNAL -> "report"
        }
        assertEquals(ErrorKind.INVALID_INPUT, kind { parseCredentials("{\"kind\":") })
        assertEquals(ErrorKind.INVALID_INPUT, kind { WorkboardClient(ClientOptions(entropySeedHex = "zz")) })
        val c = client()
        assertEquals(ErrorKind.WRONG_STATE, kind { c.stepUpMcpSignIn("x") })
        assertEquals("fix the call", action(kind { c.handleV1Redirect(null, "$redirect?code=x&state=y") }))
        assertEquals(ErrorKind.NEEDS_SIGN_IN, kind { runBlocking { c.refreshMcpCredentials() } })
        assertEquals(ErrorKind.NEEDS_SIGN_IN, kind { runBlocking { c.revokeMcpCredentials() } })
        assertEquals(ErrorKind.UNAUTHORIZED, kind { runBlocking { c.startMcpSignIn(McpSignInOptions(redirectUri = redirect, clientSecret = "s")) } })
        val start = c.startV1SignIn(V1SignInOptions(clientId = "cid", redirectUri = redirect))
        val denied = assertThrows<WorkboardException.Failed> { c.handleV1Redirect(start.pendingJson, "$redirect?error=access_denied&state=${query(start.url)["state"]}") }
        assertEquals("authorization_denied" to ErrorKind.SIGN_IN_FAILED, denied.code to denied.kind)
        val failing = object : CredentialStore {
            override fun load(key: String): String? = throw HostException.Other("keychain locked")
            override fun save(key: String, value: String) = throw HostException.Other("keychain locked")
            override fun remove(key: String) {}
        }
        val stored = assertThrows<WorkboardException.Failed> { client(store = failing) }
        assertEquals("credential_store_failed" to ErrorKind.STORAGE, stored.code to stored.kind)
        assertTrue(stored.detail.contains("keychain locked"), stored.detail)
    }

    @Test
    fun personalTokenIsParsedAndNeverShown() {
        val c = WorkboardClient(ClientOptions(token = "Bearer wbp_secret_123"))
        val s = c.credentialsSummary()!!
        assertEquals("personal", s.kind)
        assertFalse(s.toString().contains("wbp_secret_123"))
        assertEquals("personal", parseCredentials(c.credentialsJson()!!).kind)
        assertEquals("https://www.myworkboard.com/wb/mcp", c.mcpUrl())
        assertEquals("https://www.myworkboard.eu", WorkboardClient(ClientOptions(environment = "eu")).baseUrl())
    }

    @Test
    fun v1AuthorizeUrlAndRedirectSurviveARestart() {
        val clock = ManualClock(1_764_000_000_000uL)
        val start = client(clock).startV1SignIn(V1SignInOptions(clientId = "cid", redirectUri = redirect, scopes = listOf("all")))
        assertTrue(start.url.startsWith("https://www.myworkboard.com/wb/oauth/authorize?client_id=cid&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&scope=all&state="), start.url)
        val state = query(start.url)["state"]!!
        assertEquals(43, state.length)
        // "Restart": a new client, only the persisted JSON carried over.
        clock.advanceMs(30_000uL)
        val restarted = client(clock)
        val code = restarted.handleV1Redirect(start.pendingJson, "$redirect?code=the-code&state=$state")
        assertEquals("the-code", code.code)
        // Single use, also through the persisted copy's client.
        assertEquals("authorization_reused", assertThrows<WorkboardException.Failed> { restarted.handleV1Redirect(null, "$redirect?code=the-code&state=$state") }.code)
        assertEquals("cid", code.clientId)
        assertEquals(1_764_000_030_000uL, code.receivedAtMs)
        assertEquals(1_764_000_330_000uL, code.expiresAtMs)
        assertEquals("https://www.myworkboard.com/wb/oauth/token", code.tokenEndpoint)
    }

    @Test
    fun v1RedirectChecksStateAndExpiry() {
        val clock = ManualClock(1_764_000_000_000uL)
        val c = client(clock)
        val start = c.startV1SignIn(V1SignInOptions(clientId = "cid", redirectUri = redirect))
        val state = query(start.url)["state"]!!
        assertEquals("state_mismatch", assertThrows<WorkboardException.Failed> { c.handleV1Redirect(start.pendingJson, "$redirect?code=x&state=wrong") }.code)
        assertEquals("state_missing", assertThrows<WorkboardException.Failed> { c.handleV1Redirect(start.pendingJson, "$redirect?code=x") }.code)
        assertEquals("redirect_uri_mismatch", assertThrows<WorkboardException.Failed> { c.handleV1Redirect(start.pendingJson, "https://evil.example/cb?code=x&state=$state") }.code)
        clock.advanceMs(301_000uL)
        assertEquals("authorization_expired", assertThrows<WorkboardException.Failed> { c.handleV1Redirect(start.pendingJson, "$redirect?code=x&state=$state") }.code)
    }

    @Test
    fun badInputIsATypedErrorNeverACrash(): Unit = runBlocking {
        fun code(block: () -> Unit) = assertThrows<WorkboardException.Failed> { block() }.code
        assertEquals("invalid_url", code { WorkboardClient(ClientOptions(environment = "not a url")) })
        assertEquals("insecure_url", code { WorkboardClient(ClientOptions(environment = "http://example.com")) })
        assertEquals("insecure_url", code { WorkboardClient(ClientOptions(mcpUrl = "http://example.com/mcp")) })
        assertEquals("invalid_input", code { WorkboardClient(ClientOptions(entropySeedHex = "zz")) })
        assertEquals("invalid_input", code { WorkboardClient(ClientOptions(token = "   ")) })
        assertEquals("invalid_input", code { WorkboardClient(ClientOptions(credentialsJson = "[1,2")) })
        assertEquals("invalid_input", code { WorkboardClient(ClientOptions(authContextJson = "{}")) })
        val c = client()
        assertEquals("invalid_input", code { c.setCredentialsJson("null") })
        assertEquals("invalid_input", code { c.handleV1Redirect("{not json", "$redirect?code=x&state=y") })
        assertEquals("invalid_url", code { c.startV1SignIn(V1SignInOptions(clientId = "cid", redirectUri = "no-scheme")) })
        assertEquals("insecure_url", code { c.startV1SignIn(V1SignInOptions(clientId = "cid", redirectUri = "http://app.example/cb")) })
        assertEquals("invalid_input", code { c.startV1SignIn(V1SignInOptions(clientId = "", redirectUri = redirect)) })
        assertEquals("invalid_input", code { c.startV1SignIn(V1SignInOptions(clientId = "cid", redirectUri = redirect, scopes = listOf("a,b"))) })
        // Wrong state: nothing started, nothing signed in.
        assertEquals("wrong_state", code { c.stepUpMcpSignIn("x") })
        assertEquals("wrong_state", code { c.handleV1Redirect(null, "$redirect?code=x&state=y") })
        assertEquals("invalid_input", code { runBlocking { c.callTool("t", "{not json") } })
        assertEquals("invalid_input", code { runBlocking { c.callTool("t", "[1]") } })
        assertEquals("wrong_state", code { runBlocking { c.completeMcpSignIn(null, "$redirect?code=x&state=y") } })
        assertEquals("not_signed_in", code { runBlocking { c.refreshMcpCredentials() } })
        assertEquals("not_signed_in", code { runBlocking { c.revokeV1Credentials() } })
        assertEquals("not_signed_in", code { runBlocking { c.revokeMcpCredentials() } })
        // Garbage pending JSON for the MCP flow.
        assertEquals("invalid_input", code { runBlocking { c.completeMcpSignIn("{\"dialect\":1}", "$redirect?code=x&state=y") } })
        // Secrets are refused unless the client opted in (server-side code).
        assertEquals("secret_in_browser", code { runBlocking { c.startMcpSignIn(McpSignInOptions(redirectUri = redirect, clientSecret = "s")) } })
        assertNull(c.credentialsJson())
    }

    @Test
    fun unreachableServerIsATransportError(): Unit = runBlocking {
        // Built-in transport, a closed loopback port.
        val c = WorkboardClient(ClientOptions(environment = "http://127.0.0.1:9"))
        val e = assertThrows<WorkboardException.Failed> { runBlocking { c.startMcpSignIn(McpSignInOptions(redirectUri = "http://127.0.0.1:8765/callback", clientId = "x")) } }
        assertTrue(e.code == "transport" || e.code == "retries_exhausted", e.code)
    }

    /** A keyed store in memory; `saves` records every change of the credentials (`null`: removed). */
    class MemoryStore(credentials: String? = null) : CredentialStore {
        val values = java.util.concurrent.ConcurrentHashMap<String, String>()
        val saves: MutableList<String?> = java.util.Collections.synchronizedList(mutableListOf())
        init { credentials?.let { values["credentials"] = it } }
        val value: String? get() = values["credentials"]
        override fun load(key: String): String? = values[key]
        override fun save(key: String, value: String) { values[key] = value; if (key == "credentials") saves.add(value) }
        override fun remove(key: String) { values.remove(key); if (key == "credentials") saves.add(null) }
    }

    @Test
    fun credentialStoreAndListenerSeeEveryChange() {
        val store = MemoryStore(WorkboardClient(ClientOptions(token = "tok-1")).credentialsJson())
        val c = client(store = store)
        assertEquals("personal", c.credentialsSummary()!!.kind) // loaded from the store
        val seen = mutableListOf<String?>()
        c.setCredentialsListener(object : CredentialsListener {
            override fun onCredentialsChanged(credentialsJson: String?) { seen.add(credentialsJson) }
        })
        c.setToken("tok-2")
        c.clearCredentials()
        assertEquals(2, seen.size)
        assertTrue(seen[0]!!.contains("tok-2"))
        assertNull(seen[1])
        assertEquals(listOf(seen[0], null), store.saves)
        assertNull(c.storeError())
        // A store that cannot be read fails the construction; one that cannot save fails the
        // change, which is in use anyway (and reported by storeError); a throwing listener is
        // ignored.
        val unreadable = object : CredentialStore {
            override fun load(key: String): String? = throw HostException.Other("keychain locked")
            override fun save(key: String, value: String) {}
            override fun remove(key: String) {}
        }
        assertEquals("credential_store_failed", assertThrows<WorkboardException.Failed> { client(store = unreadable) }.code)
        val unwritable = object : CredentialStore {
            override fun load(key: String): String? = null
            override fun save(key: String, value: String) = throw IllegalStateException("boom")
            override fun remove(key: String) {}
        }
        val c2 = WorkboardClient(ClientOptions(token = "t"), store = unwritable)
        assertEquals("credential_store_failed", assertThrows<WorkboardException.Failed> { c2.setToken("t2") }.code)
        assertTrue(c2.credentialsJson()!!.contains("t2"))
        assertEquals("credential_store_failed" to ErrorKind.STORAGE, c2.storeError()!!.let { (it as WorkboardException.Failed).code to it.kind })
        c.setCredentialsListener(object : CredentialsListener {
            override fun onCredentialsChanged(credentialsJson: String?) = throw RuntimeException("listener bug")
        })
        c.setToken("tok-3")
        assertEquals("personal", c.credentialsSummary()!!.kind)
    }

    @Test
    fun redactUrlHidesSecrets() {
        val r = redactUrl("https://h/cb?code=SECRET&state=S2&x=1")
        assertFalse(r.contains("SECRET") || r.contains("S2"), r)
        assertTrue(r.contains("x=1"))
    }

    /** A server that answers every request with the same bytes. */
    class Fixed(private val status: Int, private val contentType: String, private val body: String) : Transport {
        override suspend fun send(request: HttpRequest): HttpResponse =
            HttpResponse(status.toUShort(), listOf(HttpHeader("Content-Type", contentType)), body.toByteArray())
    }

    /** The app's transport with its own body limit: a larger body is refused as too large. */
    class Capped(private val limit: Int, private val inner: Transport) : Transport {
        val sent = java.util.concurrent.atomic.AtomicInteger()
        override suspend fun send(request: HttpRequest): HttpResponse {
            sent.incrementAndGet()
            val r = inner.send(request)
            if (r.body.size > limit) throw HostException.BodyTooLarge(limit.toULong())
            return r
        }
    }

    @Test
    fun aTransportRefusingAnOversizedBodyIsResponseTooLargeNotReplayed(): Unit = runBlocking {
        val t = Capped(1024, Fixed(200, "application/json", "x".repeat(4096)))
        val e = assertThrows<WorkboardException.Failed> { runBlocking { WorkboardClient(ClientOptions(token = "tok"), transport = t).listTools() } }
        assertEquals("response_too_large", e.code)
        assertTrue(e.detail.contains("1024"), e.detail)
        // `initialize` is replayed after a network failure; an oversized body is not one.
        assertEquals(1, t.sent.get())
    }

    @Test
    fun garbageFromTheServerIsATypedError(): Unit = runBlocking {
        val cases = listOf(
            Fixed(200, "text/html", "<html>login</html>") to "invalid_response",
            Fixed(200, "application/json", "{\"jsonrpc\":\"2.0\",\"id\":") to "invalid_response",
            Fixed(200, "text/event-stream", "data: {not json}\n\n") to "protocol_error",
            Fixed(500, "text/plain", "oops") to "http_status",
            Fixed(200, "application/json", "[]") to "protocol_error",
        )
        for ((t, expected) in cases) {
            val c = WorkboardClient(ClientOptions(token = "tok"), transport = t)
            val e = assertThrows<WorkboardException.Failed> { runBlocking { c.listTools() } }
            assertEquals(expected, e.code)
            val s = WorkboardClient(ClientOptions(), transport = t)
            assertThrows<WorkboardException.Failed> { runBlocking { s.startMcpSignIn(McpSignInOptions(redirectUri = "http://127.0.0.1:8765/cb", clientId = "x")) } }
        }
        // A transport that throws something unexpected is a transport error, not a crash.
        val throwing = object : Transport {
            override suspend fun send(request: HttpRequest): HttpResponse = throw IllegalStateException("bug in the app's transport")
        }
        val e = assertThrows<WorkboardException.Failed> { runBlocking { WorkboardClient(ClientOptions(token = "tok"), transport = throwing).listTools() } }
        assertEquals("transport", e.code)
    }

    @Test
    fun badInputToTheMcpSurfaceIsATypedErrorBeforeAnythingIsSent(): Unit = runBlocking {
        val sent = java.util.concurrent.atomic.AtomicInteger()
        val counting = object : Transport {
            override suspend fun send(request: HttpRequest): HttpResponse {
                sent.incrementAndGet()
                throw HostException.Connect("no server here")
            }
        }
        val loud = assertThrows<WorkboardException.Failed> { WorkboardClient(ClientOptions(token = "t", logLevel = "loud")) }
        assertEquals("invalid_input", loud.code)
        val c = WorkboardClient(ClientOptions(mcpUrl = "https://mcp.example.com/mcp", token = "t"), transport = counting)
        val bad: List<suspend () -> Any?> = listOf(
            { c.subscribe(McpSubscriptionFilter()).next() },
            { c.subscribe(McpSubscriptionFilter(resourceUris = List(65) { "x" })).next() },
            { c.subscribe(McpSubscriptionFilter(resourceUris = listOf(""))).next() },
            { c.subscribe(McpSubscriptionFilter(resourceUris = listOf("u".repeat(9000)))).next() },
            { c.readResource("") },
            { c.getPrompt("", null) },
            { c.complete(McpCompletionRef.Prompt("p"), "", "", null) },
        )
        for (make in bad) {
            val e = assertThrows<WorkboardException.Failed> { runBlocking { make() } }
            assertEquals("invalid_input" to ErrorKind.INVALID_INPUT, e.code to e.kind)
            assertFalse(e.detail.contains("u".repeat(300)), "bounded, never the whole input")
        }
        assertEquals(0, sent.get())
    }
}

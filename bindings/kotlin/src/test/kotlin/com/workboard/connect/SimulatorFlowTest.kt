package com.workboard.connect

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import java.io.File
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Full flows against workboard-sim (a WorkBoard-compatible server on 127.0.0.1). */
class SimulatorFlowTest {
    private val redirect = "http://127.0.0.1:8765/callback"

    @Test
    fun personalTokenListsAndCallsToolsWithTheBuiltInTransport(): Unit = runBlocking {
        // A legacy-only simulator: this test checks the session (one initialize,
        // notifications/cancelled, a 401 on the next tools/list); the modern era is covered
        // byte for byte by tests/vectors (VectorReplayTest).
        Sim("--era", "legacy").use { sim ->
            val c = WorkboardClient(ClientOptions(environment = sim.baseUrl, token = "wbp_demo_personal_token"))
            assertEquals("${sim.baseUrl}/wb/mcp", c.mcpUrl())
            val info = c.connect()
            assertTrue(info.protocolVersion.matches(Regex("\\d{4}-\\d{2}-\\d{2}")), info.protocolVersion)
            assertTrue(info.name.isNotEmpty())
            val tools = c.listTools()
            assertTrue(tools.any { it.name == "get_current_user" }, tools.map { it.name }.toString())
            assertTrue(JSONObject(tools.first().inputSchemaJson).has("type"))
            val r = c.callTool("get_current_user", "{}")
            assertFalse(r.isError)
            assertTrue(r.text.contains("ada@example.com"), r.text)
            // Concurrent calls share one session: a single initialize.
            listOf(async { c.listTools() }, async { c.listTools() }, async { c.callTool("get_current_user", "") }).awaitAll()
            assertEquals(1, sim.stats().getJSONObject("counters").getInt("mcp:initialize"))
            c.disconnect()
            c.disconnect() // closing twice is fine
            // Closing is final.
            val stopped = assertThrows<WorkboardException.Failed> { runBlocking { c.ping() } }
            assertEquals("client_stopped" to ErrorKind.STOPPED, stopped.code to stopped.kind)
        }
    }

    @Test
    fun cancelCallsStopsACallInFlightAndTheClientStaysUsable(): Unit = runBlocking {
        // A legacy-only simulator: this test checks the session (one initialize,
        // notifications/cancelled, a 401 on the next tools/list); the modern era is covered
        // byte for byte by tests/vectors (VectorReplayTest).
        Sim("--era", "legacy").use { sim ->
            val c = WorkboardClient(ClientOptions(environment = sim.baseUrl, token = "wbp_demo_personal_token"))
            c.connect()
            fun counter(name: String) = sim.stats().getJSONObject("counters").optInt(name, 0)
            suspend fun waitFor(what: String, ok: () -> Boolean) {
                val deadline = System.nanoTime() + 10_000_000_000L
                while (!ok()) {
                    check(System.nanoTime() < deadline) { "timed out waiting for $what" }
                    delay(10)
                }
            }
            val before = counter("mcp")
            sim.control("faults", """{"latency_ms": 1500}""")
            val call = async(Dispatchers.Default) { runCatching { c.callTool("get_current_user", "{}") } }
            // The tools/call request has reached the simulator (the route is counted on
            // arrival; `mcp:tools/call` only once the latency has passed).
            waitFor("the tools/call request") { counter("mcp") > before }
            c.cancelCalls()
            // Without the cancellation the call would succeed once the latency has passed.
            val e = call.await().exceptionOrNull()
            assertTrue(e is WorkboardException.Failed, "$e")
            assertEquals("cancelled", (e as WorkboardException.Failed).code)
            assertEquals(ErrorKind.CANCELLED, e.kind)
            // The notification is counted once its own latency has passed.
            waitFor("notifications/cancelled") { counter("mcp:notifications/cancelled") > 0 }
            assertEquals(1, counter("mcp:notifications/cancelled"))
            sim.control("faults", """{"latency_ms": 0}""")
            val r = c.callTool("get_current_user", "{}")
            assertFalse(r.isError)
            assertTrue(r.text.contains("ada@example.com"), r.text)
            assertEquals(1, counter("mcp:notifications/cancelled"))
            assertEquals(1, counter("mcp:initialize"), "same session")
            c.disconnect()
        }
    }

    @Test
    fun wrongTokenIsUnauthorizedWithAHint(): Unit = runBlocking {
        Sim().use { sim ->
            val c = WorkboardClient(ClientOptions(environment = sim.baseUrl, token = "wbp_wrong"))
            val e = assertThrows<WorkboardException.Failed> { runBlocking { c.listTools() } }
            assertEquals("unauthorized", e.code)
            assertEquals(ErrorKind.NEEDS_SIGN_IN, e.kind) // the server's 401
            assertTrue(e.hint!!.contains(sim.baseUrl), e.hint)
        }
    }

    @Test
    fun mcpOAuthPkceThroughAKotlinTransportWithRefreshAndRevoke(): Unit = runBlocking {
        // A public client registered dynamically (DCR), PKCE S256, the WorkBoard issuer quirk.
        // A legacy-only simulator: this test checks the session (one initialize,
        // notifications/cancelled, a 401 on the next tools/list); the modern era is covered
        // byte for byte by tests/vectors (VectorReplayTest).
        Sim("--dcr", "on", "--era", "legacy").use { sim ->
            val transport = JdkTransport()
            val seen = mutableListOf<String?>()
            val store = ClientTest.MemoryStore()
            val c = WorkboardClient(ClientOptions(environment = sim.baseUrl), transport = transport, store = store)
            c.setCredentialsListener(object : CredentialsListener {
                override fun onCredentialsChanged(credentialsJson: String?) { synchronized(seen) { seen.add(credentialsJson) } }
            })
            val start = c.startMcpSignIn(McpSignInOptions(redirectUri = redirect))
            assertTrue(start.url.startsWith("${sim.baseUrl}/"), start.url)
            assertTrue(start.url.contains("code_challenge_method=S256"))
            assertEquals("none", start.tokenEndpointAuth)
            val location = sim.authorize(start.url)
            // The pending sign-in survives a restart: a new client completes it from the JSON.
            val c2 = WorkboardClient(ClientOptions(environment = sim.baseUrl), transport = transport, store = store)
            val summary = c2.completeMcpSignIn(start.pendingJson, location)
            assertEquals("oauth", summary.kind)
            assertTrue(summary.hasRefreshToken)
            assertEquals(c2.credentialsJson(), store.value)
            val before = c2.credentialsJson()
            assertTrue(c2.listTools().isNotEmpty())
            // The server expires every token: the next call refreshes (401 → refresh → retry).
            sim.control("faults", "{\"expire_tokens\":true}")
            assertTrue(c2.listTools().isNotEmpty())
            assertNotEquals(before, c2.credentialsJson())
            assertEquals(c2.credentialsJson(), store.value)
            // Explicit refresh, then revocation.
            c2.refreshMcpCredentials()
            assertTrue(c2.revokeMcpCredentials() >= 0u)
            assertEquals(null, c2.credentialsJson())
            assertEquals(null, store.value)
            assertTrue(transport.sent.get() >= 6)
            assertTrue(seen.isEmpty()) // the listener was on the first client
            // Replaying the same redirect is refused.
            assertThrows<WorkboardException.Failed> { runBlocking { c2.completeMcpSignIn(start.pendingJson, location) } }
        }
    }

    @Test
    fun v1SignInWithServerSideExchange(): Unit = runBlocking {
        Sim().use { sim ->
            // The app: authorize URL and redirect check, no Client Hash anywhere.
            val app = WorkboardClient(ClientOptions(environment = sim.baseUrl))
            val start = app.startV1SignIn(V1SignInOptions(clientId = "demo-client", redirectUri = redirect))
            val code = app.handleV1Redirect(null, sim.authorize(start.url))
            assertEquals("secret_in_browser", assertThrows<WorkboardException.Failed> { runBlocking { app.exchangeV1Code(code, "demo-hash") } }.code)
            // The app's server: exchanges the code with the Client Hash.
            val server = WorkboardClient(ClientOptions(environment = sim.baseUrl, allowClientSecret = true))
            val s = server.exchangeV1Code(code, "demo-hash")
            assertEquals("oauth", s.kind)
            assertFalse(s.hasRefreshToken)
            assertTrue(server.listTools().isNotEmpty())
            assertEquals("revoked", server.revokeV1Credentials())
            // A second exchange of the same code fails with a typed error.
            assertEquals("token_endpoint_error", assertThrows<WorkboardException.Failed> { runBlocking { server.exchangeV1Code(code, "demo-hash") } }.code)
        }
    }

    @Test
    fun theKotlinExampleRunsAgainstTheSimulator(): Unit = Sim().use { sim ->
        fun example(vararg args: String): String {
            val out = java.io.ByteArrayOutputStream()
            val saved = System.out
            System.setOut(java.io.PrintStream(out, true))
            try {
                com.workboard.connect.examples.ListTools.main(arrayOf("--env", sim.baseUrl, *args))
            } finally {
                System.setOut(saved)
            }
            return out.toString()
        }
        val text = example("--token", "wbp_demo_personal_token")
        assertTrue(text.contains("get_current_user:") && text.contains("ada@example.com"), text)
        // With a keyed store: the second run finds the credentials the first one saved.
        val dir = kotlin.io.path.createTempDirectory("workboard-store").toFile()
        try {
            example("--store", dir.path, "--token", "wbp_demo_personal_token")
            assertTrue(File(dir, "credentials").readText().contains("wbp_demo_personal_token"))
            assertFalse(File(dir, "session").exists(), "disconnect removes the stored session")
            val again = example("--store", dir.path)
            assertTrue(again.contains("ada@example.com"), again)
        } finally {
            dir.deleteRecursively()
        }
    }
}

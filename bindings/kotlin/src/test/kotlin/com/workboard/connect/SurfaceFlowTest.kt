package com.workboard.connect

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.future.await
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory

/**
 * The MCP surface beyond tools against workboard-sim, in both eras (`--era modern` and
 * `--era legacy`, SSE responses): resources, prompts, completion, discover, an elicitation
 * answered by a Kotlin handler, a subscription as a Flow, a call's log messages on
 * `notifications()`, and a call cancelled by cancelling its coroutine.
 */
class SurfaceFlowTest {
    private val token = "wbp_demo_personal_token"

    private fun client(sim: Sim, era: String, elicitation: ElicitationHandler? = null, logLevel: String? = null) =
        WorkboardClient(
            ClientOptions(
                environment = sim.baseUrl, token = token, logLevel = logLevel,
                era = if (era == "modern") McpEra.MODERN else McpEra.LEGACY,
            ),
            elicitation = elicitation,
        )

    /** One test per era. */
    private fun eras(test: (String) -> Unit) = listOf("modern", "legacy").map { era -> DynamicTest.dynamicTest(era) { test(era) } }

    private fun counter(sim: Sim, name: String) = sim.stats().getJSONObject("counters").optInt(name, 0)

    /** Polls the simulator's stats (bounded: 10 s) until `ok`. */
    private suspend fun waitFor(what: String, ok: () -> Boolean) {
        val deadline = System.nanoTime() + 10_000_000_000L
        while (!ok()) {
            check(System.nanoTime() < deadline) { "timed out waiting for $what" }
            delay(10)
        }
    }

    @TestFactory
    fun resourcesPromptsCompletionAndDiscover(): List<DynamicTest> = eras { resourcesPromptsCompletionAndDiscoverIn(it) }

    private fun resourcesPromptsCompletionAndDiscoverIn(era: String): Unit = runBlocking {
        Sim("--era", era, "--sse").use { sim ->
            val c = client(sim, era)
            val d = c.discover()
            assertEquals(era == "modern", d.modern)
            assertTrue(JSONObject(d.capabilitiesJson).has("resources"), d.capabilitiesJson)
            c.ping()
            val resources = c.listResources()
            assertTrue(resources.size > 5, "all pages: ${resources.size}") // pages of 5
            val goal = resources.first { it.uri.startsWith("workboard://goal/") }
            val contents = c.readResource(goal.uri)
            assertEquals(goal.uri, contents.single().uri)
            assertTrue(!contents.single().text.isNullOrEmpty())
            assertTrue(c.listResourceTemplates().any { it.uriTemplate.contains("key-result") })
            val missing = assertThrows<WorkboardException.Failed> { runBlocking { c.readResource("workboard://goal/999999") } }
            assertEquals("jsonrpc_error", missing.code)
            val prompts = c.listPrompts()
            val review = prompts.first { it.name == "objective_review" }
            assertTrue(review.arguments.any { it.name == "objective_id" && it.required })
            val p = c.getPrompt("objective_review", mapOf("objective_id" to "301"))
            assertTrue(p.messages.isNotEmpty())
            assertEquals("user", p.messages.first().role)
            assertEquals("text", JSONObject(p.messages.first().contentJson).getString("type"))
            val done = c.complete(McpCompletionRef.Prompt("objective_review"), "objective_id", "3")
            assertTrue(done.values.isNotEmpty() && done.values.all { it.startsWith("3") }, done.values.toString())
            // A request the SDK does not model, forwarded as is.
            val raw = JSONObject(c.request("prompts/get", """{"name": "weekly_update", "arguments": {"team": "Platform"}}"""))
            assertEquals("user", raw.getJSONArray("messages").getJSONObject(0).getString("role"))
            assertEquals("invalid_input", assertThrows<WorkboardException.Failed> { runBlocking { c.request("prompts/get", "[1]") } }.code)
            assertEquals(if (era == "modern") 0 else 1, counter(sim, "mcp:initialize"))
            assertTrue(counter(sim, "mcp:prompts/get") == 2 && counter(sim, "mcp:resources/read") == 2)
            c.disconnect()
        }
    }

    /** An app's form: records what it was asked and answers (or declines). */
    class Form(private val answer: McpElicitationResult) : ElicitationHandler {
        val asked = mutableListOf<McpElicitation>()
        override suspend fun elicit(request: McpElicitation): McpElicitationResult {
            synchronized(asked) { asked.add(request) }
            return answer
        }
    }

    @TestFactory
    fun anElicitationIsAnsweredByAKotlinHandler(): List<DynamicTest> = eras { anElicitationIsAnsweredByAKotlinHandlerIn(it) }

    private fun anElicitationIsAnsweredByAKotlinHandlerIn(era: String): Unit = runBlocking {
        Sim("--era", era, "--sse").use { sim ->
            val form = Form(McpElicitationResult(McpElicitationAction.ACCEPT, """{"confidence": 7, "note": "on track"}"""))
            val c = client(sim, era, elicitation = form)
            val r = c.callTool("draft_check_in", """{"key_result_id": 401}""")
            assertFalse(r.isError, r.text)
            assertTrue(r.text.contains("confidence 7/10. on track"), r.text)
            val asked = form.asked.single()
            assertEquals("form", asked.mode)
            assertTrue(asked.message.contains("401"), asked.message)
            assertTrue(JSONObject(asked.requestedSchemaJson!!).getJSONObject("properties").has("confidence"))
            if (era == "modern") assertEquals(1, counter(sim, "mcp:input_required"))
            else assertEquals(1, counter(sim, "mcp:server_request:elicitation/create"))
            // Declined: the server hears it (its tool says nothing was drafted).
            val declining = client(sim, era, elicitation = Form(McpElicitationResult(McpElicitationAction.DECLINE)))
            val d = declining.callTool("draft_check_in", """{"key_result_id": 401}""")
            assertTrue(d.text.contains("decline"), d.text)
            // A handler's answer that is not a JSON object: the modern call fails with a typed
            // error; a legacy server's request is answered with a JSON-RPC error, which its
            // tool reports as a tool error.
            val broken = client(sim, era, elicitation = Form(McpElicitationResult(McpElicitationAction.ACCEPT, "[1]")))
            val b = runCatching { broken.callTool("draft_check_in", """{"key_result_id": 401}""") }
            if (era == "modern") {
                val e = b.exceptionOrNull() as WorkboardException.Failed
                assertEquals("invalid_input" to ErrorKind.INVALID_INPUT, e.code to e.kind)
            } else {
                assertTrue(b.getOrThrow().isError)
            }
            // Without a handler nothing is declared: the server cannot ask.
            val none = client(sim, era)
            val refused = runCatching { none.callTool("draft_check_in", """{"key_result_id": 401}""") }
            if (era == "modern") assertEquals("jsonrpc_error", (refused.exceptionOrNull() as WorkboardException.Failed).code)
            else assertTrue(refused.getOrThrow().isError)
            listOf(c, declining, broken, none).forEach { it.disconnect() }
        }
    }

    /** The app's language model: records the conversation it was given. */
    class Model : SamplingHandler {
        val asked = mutableListOf<McpSamplingRequest>()
        override suspend fun createMessage(request: McpSamplingRequest): McpSamplingResult {
            synchronized(asked) { asked.add(request) }
            return McpSamplingResult("assistant", """{"type": "text", "text": "Reach 99.99% availability"}""", "app-llm", "endTurn")
        }
    }

    @TestFactory
    fun aSamplingRequestIsAnsweredByAKotlinHandler(): List<DynamicTest> = eras { era ->
        runBlocking {
            Sim("--era", era, "--sse").use { sim ->
                val model = Model()
                val c = WorkboardClient(
                    ClientOptions(environment = sim.baseUrl, token = token, era = if (era == "modern") McpEra.MODERN else McpEra.LEGACY),
                    sampling = model,
                )
                val r = c.callTool("suggest_key_result", """{"objective_id": 301}""")
                assertFalse(r.isError, r.text)
                assertTrue(r.text.contains("Reach 99.99% availability") && r.text.contains("app-llm"), r.text)
                val asked = model.asked.single()
                assertTrue(asked.messagesJson.contains("Suggest one measurable key result"), asked.messagesJson)
                assertEquals(200uL, asked.maxTokens)
                assertTrue(asked.systemPrompt!!.contains("OKR coach"))
                if (era == "legacy") assertEquals(1, counter(sim, "mcp:server_request:sampling/createMessage"))
                c.disconnect()
            }
        }
    }

    @TestFactory
    fun aSubscriptionFlowReceivesANotification(): List<DynamicTest> = eras { aSubscriptionFlowReceivesANotificationIn(it) }

    private fun aSubscriptionFlowReceivesANotificationIn(era: String): Unit = runBlocking {
        Sim("--era", era, "--sse").use { sim ->
            val c = client(sim, era)
            val uri = "workboard://goal/301"
            val opened = CompletableDeferred<Unit>()
            val got = async(Dispatchers.Default) {
                c.subscriptionFlow(McpSubscriptionFilter(resourceUris = listOf(uri)))
                    .take(if (era == "modern") 2 else 1)
                    .toList { n -> if (n.method == "notifications/subscriptions/acknowledged") opened.complete(Unit) }
            }
            // Open at the server: the modern acknowledgment, or the legacy GET stream.
            withTimeout(10_000) {
                if (era == "modern") opened.await()
                else waitFor("the GET stream and resources/subscribe") { counter(sim, "mcp:get_stream:open") >= 1 && counter(sim, "mcp:resources/subscribe") >= 1 }
            }
            sim.control("notify", """{"resource_updated": "$uri"}""")
            val all = withTimeout(10_000) { got.await() }
            val updated = all.last()
            assertEquals("notifications/resources/updated", updated.method)
            assertEquals(uri, JSONObject(updated.paramsJson).getString("uri"))
            if (era == "modern") {
                assertEquals("notifications/subscriptions/acknowledged", all.first().method)
                // The collector stopped (take): the stream was cancelled, the server closed it.
                waitFor("the listen stream to close") { sim.stats().getInt("listeners") == 0 }
            }
            c.disconnect()
        }
    }

    private suspend fun <T> kotlinx.coroutines.flow.Flow<T>.toList(each: (T) -> Unit): List<T> {
        val out = mutableListOf<T>()
        collect { each(it); out.add(it) }
        return out
    }

    @Test
    fun aSubscriptionAskingForNothingFailsWithATypedError(): Unit = runBlocking {
        Sim("--era", "modern").use { sim ->
            val c = client(sim, "modern")
            val e = assertThrows<WorkboardException.Failed> { runBlocking { c.subscriptionFlow(McpSubscriptionFilter()).first() } }
            assertEquals(ErrorKind.INVALID_INPUT, e.kind)
            // A cancelled stream ends (null), it does not throw.
            val s = c.subscribe(McpSubscriptionFilter(toolsListChanged = true))
            s.cancel()
            assertNull(s.next())
            c.disconnect()
        }
    }

    @Test
    fun aCallsLogMessagesArriveOnTheNotificationFlow(): Unit = runBlocking {
        Sim("--era", "modern", "--sse").use { sim ->
            val c = client(sim, "modern", logLevel = "info")
            val stream = c.notifications() // registered now, before the call
            val r = c.callTool("get_current_user", "{}")
            assertFalse(r.isError)
            val n = withTimeout(10_000) { stream.asFlow().first() }
            assertEquals("notifications/message", n.method)
            assertEquals("info", JSONObject(n.paramsJson).getString("level"))
            assertTrue(counter(sim, "mcp:log_message") >= 1)
            // Disconnecting ends the client's notification flows.
            val other = c.notifications()
            c.disconnect()
            assertEquals(0, withTimeout(10_000) { other.asFlow().toList().size })
        }
    }

    @Test
    fun cancellingTheCoroutineCancelsTheCall(): Unit = runBlocking {
        // Legacy: the server counts the `notifications/cancelled` the cancellation sends.
        Sim("--era", "legacy").use { sim ->
            val c = client(sim, "legacy")
            c.connect()
            val before = counter(sim, "mcp")
            sim.control("faults", """{"latency_ms": 1500}""")
            var finished = false
            val job = launch(Dispatchers.Default) { c.callTool("get_current_user", "{}"); finished = true }
            waitFor("the tools/call request") { counter(sim, "mcp") > before }
            job.cancel()
            job.join()
            assertTrue(job.isCancelled && !finished)
            waitFor("notifications/cancelled") { counter(sim, "mcp:notifications/cancelled") > 0 }
            assertEquals(1, counter(sim, "mcp:notifications/cancelled"))
            sim.control("faults", """{"latency_ms": 0}""")
            // Only that call was cancelled: the client goes on.
            assertFalse(c.callTool("get_current_user", "{}").isError)
            assertEquals(1, counter(sim, "mcp:notifications/cancelled"))
            c.disconnect()
        }
    }

    @TestFactory
    fun theCheckInExampleRunsAgainstTheSimulator(): List<DynamicTest> = eras { era ->
        Sim("--era", era, "--sse").use { sim ->
            val out = java.io.ByteArrayOutputStream()
            val (savedOut, savedIn) = System.out to System.`in`
            System.setOut(java.io.PrintStream(out, true))
            // Modern: a prepared answer; legacy: the form answered on "the terminal".
            System.setIn(java.io.ByteArrayInputStream("7\non track\n".toByteArray()))
            try {
                val answer = if (era == "modern") arrayOf("--answer", """{"confidence": 7, "note": "on track"}""") else emptyArray()
                com.workboard.connect.examples.CheckIn.main(arrayOf("--env", sim.baseUrl, "--token", token, "--era", era, *answer))
            } finally {
                System.setOut(savedOut)
                System.setIn(savedIn)
            }
            val text = out.toString()
            assertTrue(text.contains("resource workboard://goal/301 (application/json)"), text)
            assertTrue(text.contains("prompt user: Review the objective"), text)
            assertTrue(text.contains("[form] Check-in for key result 401"), text)
            assertTrue(text.contains("confidence 7/10. on track"), text)
        }
    }

    /**
     * The app's own HTTP stack handing event streams over as they arrive (`request.stream`):
     * java.net.http with an InputStream body, read on an IO thread until the response ends or
     * the call is cancelled (checked whenever data arrives: the simulator's keep-alives).
     */
    class StreamingJdkTransport : Transport {
        private val http = java.net.http.HttpClient.newBuilder()
            .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build()
        val streamed = java.util.concurrent.atomic.AtomicInteger()

        override suspend fun send(request: HttpRequest): HttpResponse {
            val b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(request.url))
            for (h in request.headers) b.header(h.name, h.value)
            b.method(request.method, if (request.body.isEmpty()) java.net.http.HttpRequest.BodyPublishers.noBody()
                else java.net.http.HttpRequest.BodyPublishers.ofByteArray(request.body))
            val resp = try {
                http.sendAsync(b.build(), java.net.http.HttpResponse.BodyHandlers.ofInputStream()).await()
            } catch (e: java.io.IOException) {
                throw HostException.Connect("${e.message}")
            }
            val headers = resp.headers().map().flatMap { (k, vs) -> vs.map { HttpHeader(k, it) } }
            request.stream?.head(resp.statusCode().toUShort(), headers)
            val body = java.io.ByteArrayOutputStream()
            kotlinx.coroutines.withContext(Dispatchers.IO) {
                resp.body().use { input ->
                    val buf = ByteArray(65536)
                    while (true) {
                        ensureActive()
                        val n = input.read(buf)
                        if (n < 0) break
                        val chunk = buf.copyOf(n)
                        request.stream?.let { it.chunk(chunk); streamed.incrementAndGet() }
                        body.write(chunk)
                    }
                }
            }
            return HttpResponse(resp.statusCode().toUShort(), headers, body.toByteArray())
        }
    }

    @TestFactory
    fun aKotlinTransportThatStreamsServesSubscriptionsAndLegacyInput(): List<DynamicTest> = eras { era ->
        runBlocking {
            Sim("--era", era, "--sse", "--keepalive-ms", "50").use { sim ->
                val transport = StreamingJdkTransport()
                val form = Form(McpElicitationResult(McpElicitationAction.ACCEPT, """{"confidence": 5}"""))
                val c = WorkboardClient(
                    ClientOptions(environment = sim.baseUrl, token = token, era = if (era == "modern") McpEra.MODERN else McpEra.LEGACY),
                    transport = transport, elicitation = form,
                )
                // A legacy server asks on the call's open stream: answered before it ends.
                val r = c.callTool("draft_check_in", """{"key_result_id": 401}""")
                assertTrue(r.text.contains("confidence 5/10"), r.text)
                val uri = "workboard://goal/301"
                // The call's own GET stream has come and gone: wait for the subscription's.
                val streams = counter(sim, "mcp:get_stream:open")
                val opened = CompletableDeferred<Unit>()
                val got = async(Dispatchers.Default) {
                    c.subscriptionFlow(McpSubscriptionFilter(resourceUris = listOf(uri)))
                        .take(if (era == "modern") 2 else 1)
                        .toList { n -> if (n.method == "notifications/subscriptions/acknowledged") opened.complete(Unit) }
                }
                withTimeout(10_000) {
                    if (era == "modern") opened.await()
                    else waitFor("the GET stream and resources/subscribe") { counter(sim, "mcp:get_stream:open") > streams && counter(sim, "mcp:resources/subscribe") >= 1 }
                }
                sim.control("notify", """{"resource_updated": "$uri"}""")
                assertEquals("notifications/resources/updated", withTimeout(10_000) { got.await() }.last().method)
                if (era == "modern") waitFor("the listen stream to close") { sim.stats().getInt("listeners") == 0 }
                assertTrue(transport.streamed.get() > 0)
                c.disconnect()
            }
        }
    }

    /**
     * A proxy's own client runs the input round: `input_required` comes back as sent (this
     * client's handler is not asked), then that client's answer and `requestState` go to the
     * server as given.
     */
    @Test
    fun requestWithClientInputPassesAProxiedClientsRoundsThrough(): Unit = runBlocking {
        Sim("--era", "modern", "--sse").use { sim ->
            val form = Form(McpElicitationResult(McpElicitationAction.DECLINE))
            val c = client(sim, "modern", elicitation = form)
            val caps = """{"io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}}}"""
            val call = """"name": "draft_check_in", "arguments": {"key_result_id": 401}, "_meta": $caps"""
            val first = JSONObject(c.requestWithClientInput("tools/call", "{$call}"))
            assertEquals("input_required", first.getString("resultType"))
            val requests = first.getJSONObject("inputRequests")
            val key = requests.keys().next()
            assertEquals("elicitation/create", requests.getJSONObject(key).getString("method"))
            assertTrue(form.asked.isEmpty(), "this client's handler is not asked")
            val answers = JSONObject().put(key, JSONObject(mapOf("action" to "accept", "content" to mapOf("confidence" to 6, "note" to "proxied"))))
            val state = JSONObject.quote(first.getString("requestState"))
            val done = JSONObject(c.requestWithClientInput("tools/call", "{$call, \"inputResponses\": $answers, \"requestState\": $state}"))
            val text = done.getJSONArray("content").getJSONObject(0).getString("text")
            assertTrue(text.contains("confidence 6/10. proxied"), text)
            val bad = assertThrows<WorkboardException.Failed> { runBlocking { c.requestWithClientInput("tools/call", "[1]") } }
            assertEquals("invalid_input", bad.code)
            assertEquals(1, counter(sim, "mcp:input_required"))
            assertEquals(1, counter(sim, "mcp:input_completed"))
            c.close()
        }
    }
}

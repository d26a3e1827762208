// Example: a resource, a prompt and an elicitation answered by the app, from Kotlin.
//
//   CheckIn.main(arrayOf("--token", "<token>"))                       (US environment)
//   CheckIn.main(arrayOf("--env", "http://127.0.0.1:PORT", "--token", "wbp_demo_personal_token",
//                        "--era", "legacy", "--answer", """{"confidence": 7}"""))
//
// Reads the first goal resource, gets the `objective_review` prompt, then calls the
// `draft_check_in` tool: the server asks for a check-in form (MCP elicitation), which the
// `ConsoleForm` handler answers (from --answer, or by asking on the terminal). On Android the
// handler would show a dialog built from `requestedSchemaJson` and return what the user chose.
package com.workboard.connect.examples

import com.workboard.connect.ClientOptions
import com.workboard.connect.ElicitationHandler
import com.workboard.connect.McpElicitation
import com.workboard.connect.McpElicitationAction
import com.workboard.connect.McpElicitationResult
import com.workboard.connect.McpEra
import com.workboard.connect.WorkboardClient
import com.workboard.connect.WorkboardException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.json.JSONObject

/** Renders a server's form field by field (or answers with a prepared JSON object). */
class ConsoleForm(private val answer: String?) : ElicitationHandler {
    override suspend fun elicit(request: McpElicitation): McpElicitationResult {
        println("[form] ${request.message}")
        if (answer != null) return McpElicitationResult(McpElicitationAction.ACCEPT, answer)
        val schema = JSONObject(request.requestedSchemaJson ?: "{}")
        val props = schema.optJSONObject("properties") ?: JSONObject()
        val required = schema.optJSONArray("required")?.toList().orEmpty()
        val content = JSONObject()
        // Required fields first (a JSON object's keys have no order).
        for (name in props.keySet().sortedBy { if (it in required) 0 else 1 }) {
            val field = props.getJSONObject(name)
            print("${field.optString("title", name)}: ")
            val raw = withContext(Dispatchers.IO) { readLine() }.orEmpty()
            if (raw.isEmpty()) continue
            val value: Any = if (field.optString("type") == "integer") raw.toIntOrNull() ?: return cancel() else raw
            content.put(name, value)
        }
        return if (content.isEmpty) McpElicitationResult(McpElicitationAction.DECLINE)
        else McpElicitationResult(McpElicitationAction.ACCEPT, content.toString())
    }

    private fun cancel() = McpElicitationResult(McpElicitationAction.CANCEL)
}

object CheckIn {
    @JvmStatic
    fun main(args: Array<String>) {
        val opts = args.toList().windowed(2, 2).associate { (k, v) -> k to v }
        val token = opts["--token"] ?: System.getenv("WORKBOARD_TOKEN")
        if (token == null) {
            System.err.println("usage: CheckIn --token TOKEN [--env us|eu|URL] [--era auto|modern|legacy] [--answer JSON]")
            return
        }
        val era = when (opts["--era"]) { "modern" -> McpEra.MODERN; "legacy" -> McpEra.LEGACY; else -> McpEra.AUTO }
        runBlocking {
            try {
                WorkboardClient(
                    ClientOptions(environment = opts["--env"], token = token, era = era),
                    elicitation = ConsoleForm(opts["--answer"]),   // declares elicitation to servers
                ).use { client ->
                    val goal = client.listResources().first { it.uri.startsWith("workboard://goal/") }
                    val contents = client.readResource(goal.uri).first()
                    println("resource ${goal.uri} (${contents.mimeType}): ${contents.text}")
                    val prompt = client.getPrompt("objective_review", mapOf("objective_id" to goal.uri.substringAfterLast('/')))
                    for (m in prompt.messages) println("prompt ${m.role}: ${JSONObject(m.contentJson).optString("text")}")
                    val r = client.callTool("draft_check_in", """{"key_result_id": ${opts["--key-result"] ?: "401"}}""")
                    println("check-in: ${r.text}")
                    client.disconnect()
                }
            } catch (e: WorkboardException.Failed) {
                System.err.println("error ${e.code}: ${e.detail}")
                e.hint?.let { System.err.println("hint: $it") }
            }
        }
    }
}

// Example: connect to WorkBoard's MCP server from Kotlin (JVM or Android) and list the tools.
//
//   Personal token:  ListTools.main(arrayOf("--token", "<token>"))            (US environment)
//   Other base URL:  ListTools.main(arrayOf("--env", "eu", "--token", "<token>"))
//
// Build the bindings with bindings/kotlin/test.sh (the jar, plus libworkboard_ffi.so on
// jna.library.path). On Android, pass an OkHttp-based `Transport` and a Keystore-backed
// `CredentialStore` to `WorkboardClient(...)`.
package com.workboard.connect.examples

import com.workboard.connect.ClientOptions
import com.workboard.connect.WorkboardClient
import com.workboard.connect.WorkboardException
import kotlinx.coroutines.runBlocking

object ListTools {
    @JvmStatic
    fun main(args: Array<String>) {
        val opts = args.toList().windowed(2, 2).associate { (k, v) -> k to v }
        val token = opts["--token"] ?: System.getenv("WORKBOARD_TOKEN") ?: run {
            System.err.println("usage: ListTools --token TOKEN [--env us|eu|URL]")
            return
        }
        runBlocking {
            try {
                WorkboardClient(ClientOptions(environment = opts["--env"], token = token)).use { client ->
                    val tools = client.listTools()
                    for (t in tools) println("${t.name}: ${t.description ?: ""}")
                    val me = client.callTool("get_current_user", "{}")
                    println(me.text)
                    client.disconnect()
                }
            } catch (e: WorkboardException.Failed) {
                System.err.println("error ${e.code}: ${e.detail}")
                e.hint?.let { System.err.println("hint: $it") }
            }
        }
    }
}

// Example: connect to WorkBoard's MCP server from Kotlin (JVM or Android) and list the tools.
//
//   Personal token:  ListTools.main(arrayOf("--token", "<token>"))            (US environment)
//   Other base URL:  ListTools.main(arrayOf("--env", "eu", "--token", "<token>"))
//   Kept between runs: ListTools.main(arrayOf("--store", "<dir>", "--token", "<token>")), then
//                    ListTools.main(arrayOf("--store", "<dir>"))
//
// Build the bindings with bindings/kotlin/test.sh (the jar, which carries libworkboard_ffi.so:
// nothing to set). On Android, pass an OkHttp-based `Transport` and a Keystore-backed
// `CredentialStore` to `WorkboardClient(...)`.
package com.workboard.connect.examples

import com.workboard.connect.ClientOptions
import com.workboard.connect.CredentialStore
import com.workboard.connect.WorkboardClient
import com.workboard.connect.WorkboardException
import kotlinx.coroutines.runBlocking

/**
 * A keyed `CredentialStore` in a directory, one file per key (`credentials`, `auth_context`,
 * `session`). The values hold tokens: on a device, encrypt them (Android Keystore).
 */
class DirStore(private val dir: java.io.File) : CredentialStore {
    init { dir.mkdirs() }
    override fun load(key: String): String? = java.io.File(dir, key).takeIf { it.exists() }?.readText()
    override fun save(key: String, value: String) = java.io.File(dir, key).writeText(value)
    override fun remove(key: String) { java.io.File(dir, key).delete() }
}

object ListTools {
    @JvmStatic
    fun main(args: Array<String>) {
        val opts = args.toList().windowed(2, 2).associate { (k, v) -> k to v }
        val store = opts["--store"]?.let { DirStore(java.io.File(it)) }
        val token = opts["--token"] ?: System.getenv("WORKBOARD_TOKEN")
        if (token == null && store == null) {
            System.err.println("usage: ListTools [--token TOKEN] [--store DIR] [--env us|eu|URL]")
            return
        }
        runBlocking {
            try {
                // The credentials saved in the store (if any) are loaded; a token given replaces
                // them (and is saved).
                WorkboardClient(ClientOptions(environment = opts["--env"]), store = store).use { client ->
                    token?.let { client.setToken(it) }
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

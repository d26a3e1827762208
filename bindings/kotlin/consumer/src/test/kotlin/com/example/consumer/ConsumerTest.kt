package com.example.consumer

import com.workboard.connect.version
import kotlinx.coroutines.runBlocking
import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

class ConsumerTest {
    /** The native library is in the dependency's jar, at JNA's resource path for this platform. */
    @Test
    fun nativeLibraryComesFromTheJar() {
        assertNull(System.getProperty("jna.library.path"), "the app sets no jna.library.path")
        val prefix = com.sun.jna.Platform.RESOURCE_PREFIX
        val url = javaClass.classLoader.getResource("$prefix/libworkboard_ffi.so")
            ?: error("no $prefix/libworkboard_ffi.so on the classpath")
        assertEquals("jar", url.protocol, "loaded from $url")
        assertTrue(url.toString().contains("/com/workboard/workboard-connect/0.1.0/workboard-connect-0.1.0.jar!"), "$url")
        assertEquals("0.1.0", version())   // a call into the native library
    }

    /** The app's flow against workboard-sim: list the tools, call one. */
    @Test
    fun flowAgainstTheSimulator() {
        val bin = System.getProperty("workboard.sim")
        require(!bin.isNullOrEmpty() && File(bin).canExecute()) { "workboard-sim binary not given (-Dworkboard.sim)" }
        val proc = ProcessBuilder(bin, "--port", "0", "--auto-approve", "--exit-on-stdin-close")
            .redirectError(ProcessBuilder.Redirect.INHERIT).start()
        try {
            val first = BufferedReader(InputStreamReader(proc.inputStream)).readLine() ?: error("workboard-sim printed nothing")
            val url = Regex("listening on (http://127\\.0\\.0\\.1:\\d+)").find(first)?.groupValues?.get(1)
                ?: error("unexpected first line: $first")
            val (names, me) = runBlocking { toolsAndMe(url, "wbp_demo_personal_token") }
            assertTrue("get_current_user" in names, "tools: $names")
            assertTrue(me.contains("ada@example.com"), me)
        } finally {
            proc.outputStream.close()
            proc.destroy()
            proc.waitFor()
        }
    }
}

package com.workboard.connect

import org.json.JSONArray
import org.json.JSONObject
import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest as JRequest
import java.net.http.HttpResponse as JResponse
import java.time.Duration
import kotlinx.coroutines.future.await

/** Repository root (vectors), from -Dworkboard.repo. */
fun repoRoot(): File = File(System.getProperty("workboard.repo") ?: "../..")

/** JSON equality where an expected `"*"` matches anything. */
fun jsonMatches(expected: Any?, actual: Any?): Boolean {
    if (expected == "*") return true
    val e = if (expected == JSONObject.NULL) null else expected
    val a = if (actual == JSONObject.NULL) null else actual
    return when {
        e == null -> a == null
        e is JSONObject -> a is JSONObject && e.keySet() == a.keySet() &&
            e.keySet().all { jsonMatches(e.get(it), a.get(it)) }
        e is JSONArray -> a is JSONArray && e.length() == a.length() &&
            (0 until e.length()).all { jsonMatches(e.get(it), a.get(it)) }
        e is Number && a is Number -> e.toLong() == a.toLong() && e.toDouble() == a.toDouble()
        else -> e == a
    }
}

/**
 * The app's own HTTP stack as a [Transport]: java.net.http (no redirects followed), standing
 * in for OkHttp on Android.
 */
class JdkTransport : Transport {
    private val http = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10))
        .build()
    val sent = java.util.concurrent.atomic.AtomicInteger()

    override suspend fun send(request: HttpRequest): HttpResponse {
        sent.incrementAndGet()
        val b = JRequest.newBuilder(URI.create(request.url)).timeout(Duration.ofSeconds(30))
        for (h in request.headers) {
            // java.net.http refuses a few restricted headers; none are sent by the SDK.
            b.header(h.name, h.value)
        }
        val body = if (request.body.isEmpty()) JRequest.BodyPublishers.noBody()
        else JRequest.BodyPublishers.ofByteArray(request.body)
        b.method(request.method, body)
        val resp = try {
            http.sendAsync(b.build(), JResponse.BodyHandlers.ofByteArray()).await()
        } catch (e: java.net.ConnectException) {
            throw HostException.Connect("${e.message}")
        } catch (e: java.net.http.HttpTimeoutException) {
            throw HostException.Timeout()
        } catch (e: java.io.IOException) {
            throw HostException.Interrupted("${e.message}")
        }
        val headers = resp.headers().map().flatMap { (k, vs) -> vs.map { HttpHeader(k, it) } }
        return HttpResponse(resp.statusCode().toUShort(), headers, resp.body())
    }
}

/** A running `workboard-sim --port 0 --auto-approve`, stopped by [close]. */
class Sim(vararg extra: String) : AutoCloseable {
    private val proc: Process
    val baseUrl: String

    init {
        val bin = System.getProperty("workboard.sim")
        require(!bin.isNullOrEmpty() && File(bin).canExecute()) { "workboard-sim binary not given (-Dworkboard.sim)" }
        proc = ProcessBuilder(listOf(bin, "--port", "0", "--auto-approve", "--exit-on-stdin-close") + extra)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val first = BufferedReader(InputStreamReader(proc.inputStream)).readLine()
            ?: error("workboard-sim printed nothing")
        baseUrl = Regex("listening on (http://127\\.0\\.0\\.1:\\d+)").find(first)?.groupValues?.get(1)
            ?: error("unexpected first line: $first")
    }

    private val http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()

    /** Follows the browser step: GET the authorize URL (auto-approve), return the Location. */
    fun authorize(url: String): String {
        val resp = http.send(JRequest.newBuilder(URI.create(url)).GET().build(), JResponse.BodyHandlers.ofString())
        check(resp.statusCode() in 300..399) { "authorize answered ${resp.statusCode()}: ${resp.body()}" }
        return resp.headers().firstValue("location").orElseThrow()
    }

    fun control(path: String, body: String): String {
        val resp = http.send(
            JRequest.newBuilder(URI.create("$baseUrl/__sim/$path"))
                .header("Content-Type", "application/json")
                .POST(JRequest.BodyPublishers.ofString(body)).build(),
            JResponse.BodyHandlers.ofString(),
        )
        check(resp.statusCode() == 200) { "control $path: ${resp.statusCode()} ${resp.body()}" }
        return resp.body()
    }

    fun stats(): JSONObject {
        val resp = http.send(JRequest.newBuilder(URI.create("$baseUrl/__sim/stats")).GET().build(), JResponse.BodyHandlers.ofString())
        return JSONObject(resp.body())
    }

    override fun close() {
        proc.outputStream.close()
        proc.destroy()
        proc.waitFor()
    }
}

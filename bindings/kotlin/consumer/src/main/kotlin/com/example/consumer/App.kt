// A consumer app: lists the tools and calls one, with the personal token given.
//   java -cp <app and its dependencies> com.example.consumer.AppKt --env URL --token TOKEN
package com.example.consumer

import com.workboard.connect.ClientOptions
import com.workboard.connect.WorkboardClient
import kotlinx.coroutines.runBlocking

/** The tools' names and the `get_current_user` result's text. */
suspend fun toolsAndMe(environment: String, token: String): Pair<List<String>, String> =
    WorkboardClient(ClientOptions(environment = environment, token = token)).use { client ->
        val names = client.listTools().map { it.name }
        val me = client.callTool("get_current_user", "{}").text
        client.disconnect()
        names to me
    }

fun main(args: Array<String>) = runBlocking {
    val opts = args.toList().windowed(2, 2).associate { (k, v) -> k to v }
    val (names, me) = toolsAndMe(opts["--env"] ?: "us", opts["--token"] ?: error("--token TOKEN"))
    names.forEach(::println)
    println(me)
}

// Hand-written Kotlin idioms over the UniFFI-generated API (the rest of the package is
// generated from bindings/ffi): notification streams as `Flow`s. No logic of its own: each
// function only pulls `McpNotificationStream.next()` and cancels the stream when the
// collector stops.
package com.workboard.connect

import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.emitAll
import kotlinx.coroutines.flow.flow

/**
 * This stream's notifications as a [Flow], in order, until the stream ends. Collect it once:
 * when the collector stops (cancelled, `take(n)`, an exception), the stream is cancelled (a
 * subscription is closed and the server told) and the native object released.
 */
fun McpNotificationStream.asFlow(): Flow<McpNotification> = flow {
    try {
        while (true) {
            val n = next() ?: break
            emit(n)
        }
    } finally {
        cancel()
        close()
    }
}

/**
 * A subscription as a cold [Flow]: each collection subscribes ([WorkboardClient.subscribe])
 * and yields its notifications (a 2026-07-28 server's `notifications/subscriptions/acknowledged`
 * first) until the server ends it; stopping the collection cancels it.
 */
fun WorkboardClient.subscriptionFlow(filter: McpSubscriptionFilter): Flow<McpNotification> = flow {
    emitAll(subscribe(filter).asFlow())
}

/**
 * Every server notification outside a subscription (a call's progress and log messages at
 * [ClientOptions.logLevel], a legacy server's list changes) as a [Flow]. Registered when the
 * collection starts: to hear a call's notifications, start collecting before the call (or use
 * `notifications().asFlow()`, registered at once).
 */
fun WorkboardClient.notificationFlow(): Flow<McpNotification> = flow {
    emitAll(notifications().asFlow())
}

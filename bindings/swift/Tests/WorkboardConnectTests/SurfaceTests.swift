// Mirrors parts of bindings/kotlin/src/test/kotlin/com/workboard/connect/SurfaceFlowTest.kt
// that need no server. NOT compiled or run on this project's build machines (no Swift
// toolchain there).
import Foundation
import XCTest
@testable import WorkboardConnect

/// A transport with no server behind it.
final class Unreachable: Transport, @unchecked Sendable {
    func send(request: HttpRequest) async throws -> HttpResponse {
        throw HostError.Connect(reason: "no server in this test")
    }
}

/// The app's form: always accepts with a prepared answer.
final class Form: ElicitationHandler, @unchecked Sendable {
    func elicit(request: McpElicitation) async throws -> McpElicitationResult {
        McpElicitationResult(action: .accept, contentJson: #"{"confidence": 7}"#)
    }
}

final class SurfaceTests: XCTestCase {
    func client() throws -> WorkboardClient {
        try WorkboardClient(
            options: ClientOptions(mcpUrl: "https://mcp.example.com/mcp", token: "tok", era: .modern),
            transport: Unreachable(), clock: ManualClock(startMs: 1_764_000_000_000), elicitation: Form())
    }

    func testASubscriptionAskingForNothingThrowsInvalidInput() async throws {
        let c = try client()
        do {
            for try await _ in c.subscribe(filter: McpSubscriptionFilter()) {}
            XCTFail("no error")
        } catch WorkboardError.Failed(_, let kind, _, _) {
            XCTAssertEqual(kind, .invalidInput)
        }
    }

    func testACancelledStreamEnds() async throws {
        let c = try client()
        let s = c.subscribe(filter: McpSubscriptionFilter(toolsListChanged: true))
        s.cancel()
        var seen = 0
        for try await _ in s { seen += 1 }
        XCTAssertEqual(seen, 0)
        let n = c.notifications()
        n.cancel()
        let next = try await n.next()
        XCTAssertNil(next)
    }

    func testCancellableCallsFailWithCancelledWhenTheTaskIsCancelled() async throws {
        let transport = Hanging()
        let c = try WorkboardClient(
            options: ClientOptions(mcpUrl: "https://mcp.example.com/mcp", token: "tok", era: .modern),
            transport: transport, clock: ManualClock(startMs: 1_764_000_000_000))
        let task = Task { try await c.cancellable { try await c.listResources() } }
        // The request is in flight (the transport was asked), then the task is cancelled.
        for await _ in transport.asked { break }
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("no error")
        } catch WorkboardError.Failed(let code, let kind, _, _) {
            XCTAssertEqual(code, "cancelled")
            XCTAssertEqual(kind, .cancelled)
        }
    }
}

/// A transport whose requests wait (at most 10 s) and that says when it was asked.
final class Hanging: Transport, @unchecked Sendable {
    let (asked, signal) = AsyncStream<Void>.makeStream()
    func send(request: HttpRequest) async throws -> HttpResponse {
        signal.yield(())
        try await Task.sleep(nanoseconds: 10_000_000_000)
        throw HostError.Timeout
    }
}

"""Exits while one of the library's threads is inside its callback into the interpreter.

The event loop's `call_soon_threadsafe` (what the callback of a finished call runs) is made to
wait after scheduling, outside the GIL, when a library thread calls it; the script then ends
and a garbage cycle whose finalizer waits (collected only by the interpreter's shutdown)
keeps the interpreter shutting down while that thread wants the GIL back. Without the package's `atexit` guard CPython kills the thread with
`pthread_exit` and the process aborts ("FATAL: exception not rethrown", exit 134) after
printing its result; with it, the exit waits for the callback and the status is 0.

    python3 exit_during_wake.py ENV_URL TOKEN
"""
import asyncio
import gc
import sys
import threading
import time

import workboard_connect as wc


class SlowWakeLoop(asyncio.SelectorEventLoop):
    def call_soon_threadsafe(self, *args, **kwargs):
        handle = super().call_soon_threadsafe(*args, **kwargs)
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.5)  # releases the GIL: the main thread finishes meanwhile
        return handle


class SlowFinalizer:
    def __del__(self, _sleep=time.sleep):
        _sleep(1.0)  # runs while the interpreter shuts down (globals may be gone by then)


gc.disable()
_cycle = SlowFinalizer()
_cycle.me = _cycle
del _cycle


async def main(env, token):
    wc.uniffi_set_event_loop(asyncio.get_running_loop())
    client = wc.WorkboardClient(wc.ClientOptions(environment=env, token=token))
    tools = await client.list_tools()
    print(f"{len(tools)} tools", flush=True)


loop = SlowWakeLoop()
asyncio.set_event_loop(loop)
loop.run_until_complete(main(sys.argv[1], sys.argv[2]))
loop.close()

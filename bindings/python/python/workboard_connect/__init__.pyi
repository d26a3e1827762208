"""Type information for ``workboard_connect`` (PEP 561, with ``py.typed``).

Everything is the UniFFI-generated module's (``_native/workboard_ffi.py``, annotated), re-exported
by name. Declared here: what ``__init__.py`` attaches at run time (notification streams are
async iterators and async context managers), the error classes and ``McpCompletionRef`` (the
generated module builds their variants at run time, out of a type checker's sight) and ``uniffi_set_event_loop``
(generated with too narrow a parameter type: any running loop is taken).
"""

import asyncio
import typing

from ._native import workboard_ffi as _ffi
from ._native.workboard_ffi import (
    ClientOptions as ClientOptions,
    CredentialStore as CredentialStore,
    CredentialsListener as CredentialsListener,
    CredentialsSummary as CredentialsSummary,
    ElicitationHandler as ElicitationHandler,
    ErrorKind as ErrorKind,
    HttpHeader as HttpHeader,
    HttpRequest as HttpRequest,
    HttpResponse as HttpResponse,
    ManualClock as ManualClock,
    McpCompletion as McpCompletion,
    McpDiscovery as McpDiscovery,
    McpElicitation as McpElicitation,
    McpElicitationAction as McpElicitationAction,
    McpElicitationResult as McpElicitationResult,
    McpEra as McpEra,
    McpNotification as McpNotification,
    McpPrompt as McpPrompt,
    McpPromptArgument as McpPromptArgument,
    McpPromptMessage as McpPromptMessage,
    McpPromptResult as McpPromptResult,
    McpResource as McpResource,
    McpResourceContents as McpResourceContents,
    McpResourceTemplate as McpResourceTemplate,
    McpRoot as McpRoot,
    McpSamplingRequest as McpSamplingRequest,
    McpSamplingResult as McpSamplingResult,
    McpSignInOptions as McpSignInOptions,
    McpServerInfo as McpServerInfo,
    McpSignInStart as McpSignInStart,
    McpTool as McpTool,
    McpSubscriptionFilter as McpSubscriptionFilter,
    McpToolResult as McpToolResult,
    RootsHandler as RootsHandler,
    SamplingHandler as SamplingHandler,
    Transport as Transport,
    V1Code as V1Code,
    V1SignInOptions as V1SignInOptions,
    V1SignInStart as V1SignInStart,
    parse_credentials as parse_credentials,
    redact_url as redact_url,
    version as version,
)

class McpNotificationStream(_ffi.McpNotificationStream):
    """A stream of notifications: ``async for n in stream`` (ends when the stream does) and
    ``async with stream`` (leaving the block cancels it)."""

    def __aiter__(self) -> "McpNotificationStream": ...
    async def __anext__(self) -> McpNotification: ...
    async def __aenter__(self) -> "McpNotificationStream": ...
    async def __aexit__(self, *exc: object) -> bool: ...

class WorkboardClient(_ffi.WorkboardClient):
    def subscribe(self, filter: McpSubscriptionFilter) -> McpNotificationStream: ...
    def notifications(self) -> McpNotificationStream: ...

class McpCompletionRef(_ffi.McpCompletionRef):
    """What a completion is for: ``McpCompletionRef.PROMPT(name=...)`` or
    ``McpCompletionRef.RESOURCE_TEMPLATE(uri=...)``."""

    class PROMPT(_ffi.McpCompletionRef):
        name: str
        def __init__(self, name: str) -> None: ...
    class RESOURCE_TEMPLATE(_ffi.McpCompletionRef):
        uri: str
        def __init__(self, uri: str) -> None: ...
    def is_PROMPT(self) -> bool: ...
    def is_prompt(self) -> bool: ...
    def is_RESOURCE_TEMPLATE(self) -> bool: ...
    def is_resource_template(self) -> bool: ...

class WorkboardError(Exception):
    """Every failure of this library: ``WorkboardError.Failed``."""

    class Failed(WorkboardError):
        code: str
        kind: ErrorKind
        message: str
        hint: typing.Optional[str]
        def __init__(self, code: str, kind: ErrorKind, message: str, hint: typing.Optional[str]) -> None: ...

class HostError(Exception):
    """What an app's ``Transport`` raises when it has no response."""

    class Connect(HostError):
        reason: str
        def __init__(self, reason: str) -> None: ...
    class Timeout(HostError):
        def __init__(self) -> None: ...
    class Interrupted(HostError):
        reason: str
        def __init__(self, reason: str) -> None: ...
    class Cancelled(HostError):
        def __init__(self) -> None: ...
    class Other(HostError):
        reason: str
        def __init__(self, reason: str) -> None: ...
    class BodyTooLarge(HostError):
        limit: int
        def __init__(self, limit: int) -> None: ...

def uniffi_set_event_loop(eventloop: asyncio.AbstractEventLoop) -> None: ...

__all__: typing.List[str]

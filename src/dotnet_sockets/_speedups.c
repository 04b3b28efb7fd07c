/*
 * dotnet_sockets._speedups: the optional accelerator of the datagram send path, of the
 * synchronous stream Send/Receive (and NetworkStream.Write/Read), and of the Begin/End pairs
 * BeginSend/EndSend, BeginReceive/EndReceive (stream) and BeginReceiveFrom/EndReceiveFrom
 * (datagram).
 *
 * Everything here has a pure-Python twin that the tests also run
 * (DOTNET_SOCKETS_PURE=1), and every function falls back to that twin
 * before doing anything visible whenever its input leaves the steady state
 * it was written for (tracing on, a queued send, a slice or flags, an
 * endpoint that is not a numeric IPEndPoint, an odd argument type...).  So the accelerator decides nothing: it only skips the
 * interpreter on the path the benchmarks measure.
 *
 * The Python objects it touches (Socket, OpQueue, IPEndPoint, the send
 * operation, the dispatcher) are __slots__ classes; configure() reads the
 * offsets of their slots once from the member descriptors, so a field read
 * here is a load, not an attribute lookup.
 *
 * One type is not a twin of a function but of a class: OpCore, the core of every
 * operation (asyncresult._PyOpCore compiled: its slots, __init__, _complete, _abort,
 * _run_callback), which asyncresult.AsyncOperation derives from when this module is
 * built.  Its fields are C struct members, read here directly.
 *
 * The code lives in _speedups_c/, one file per thing it accelerates, each opening with what it
 * is the twin of.  They are #included below, in this order, into this one translation unit, so
 * that every helper stays static and the build stays one Extension source; a part may use what
 * an earlier part defines, never a later one (configure.c and module.c, which see everything,
 * come last but one).
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>


#include "_speedups_c/config.c"
#include "_speedups_c/helpers.c"
#include "_speedups_c/fastmethod.c"
#include "_speedups_c/sendto.c"
#include "_speedups_c/stream_sync.c"
#include "_speedups_c/opcore.c"
#include "_speedups_c/stream_apm.c"
#include "_speedups_c/receivefrom_apm.c"
#include "_speedups_c/sendto_async.c"
#include "_speedups_c/await_stream.c"
#include "_speedups_c/loopwatch.c"
#include "_speedups_c/drain.c"
#include "_speedups_c/batch.c"
#include "_speedups_c/close.c"
#include "_speedups_c/sync_datagram.c"
#include "_speedups_c/connections.c"
#include "_speedups_c/queue_init.c"
#include "_speedups_c/configure.c"
#include "_speedups_c/opqueue.c"
#include "_speedups_c/module.c"

/* ---- batched datagram system calls (recvmmsg / sendmmsg) ----------------- */

/* The engine's batch loop (_engine/batch.py) decides everything: which queued operations go
   together, how each completes.  These two only make the system call for it and build what
   the socket module's single calls would have returned, so that the loop can complete each
   operation as its own attempt() would.  BATCH_MAX matches batch.LIMIT. */
#define BATCH_MAX 64

static long long batch_calls; /* recvmmsg/sendmmsg calls made, for the tests: the batch ran */
static PyObject *raw_family;  /* _socket.socket.family, the member descriptor */

/* An int argument (the flags), as the socket module reads it. */
static int
int_arg(PyObject *o, int *out)
{
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < INT_MIN || v > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "signed integer is greater than maximum");
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* What the socket module's makesockaddr() returns for an address the kernel reported: None
   for an empty one, (host, port) for IPv4, (host, port, flowinfo, scope_id) for IPv6, else
   (family, sa_data) as its fallback does. */
static PyObject *
make_sockaddr(const struct sockaddr_storage *ss, socklen_t len)
{
    char host[INET6_ADDRSTRLEN];
    if (len == 0)
        Py_RETURN_NONE;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        if (inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host)) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        return Py_BuildValue("(si)", host, ntohs(a->sin_port));
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host)) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        return Py_BuildValue("(siII)", host, ntohs(a->sin6_port), (unsigned int)ntohl(a->sin6_flowinfo),
                             (unsigned int)a->sin6_scope_id);
    }
    const struct sockaddr *sa = (const struct sockaddr *)ss;
    return Py_BuildValue("(iy#)", sa->sa_family, sa->sa_data, (Py_ssize_t)sizeof(sa->sa_data));
}

/* A buffer the batch can use as the socket module's single call uses it: for a send, what
   sendto's "y*" takes; for a receive, a memoryview of bytes (len() then counts its bytes,
   what the ops pass as nbytes) that "w*" takes.  0 when it is not: the caller's loop then runs
   that operation's own call, which raises or succeeds exactly as it always did. */
static int
take_buffer(PyObject *o, Py_buffer *view, int writable)
{
    if (writable) {
        if (!PyMemoryView_Check(o))
            return 0;
        Py_buffer *mv = PyMemoryView_GET_BUFFER(o);
        if (mv->itemsize != 1 || mv->ndim > 1)
            return 0;
    }
    if (PyObject_GetBuffer(o, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

static void
release_buffers(Py_buffer *views, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        PyBuffer_Release(&views[i]);
}

/* Both primitives' (sock, list, flags) arguments: how many of the list one call takes, or -1
   with TypeError (or the flags' OverflowError) set. */
static Py_ssize_t
batch_args(PyObject *const *args, Py_ssize_t nargs, const char *usage, int *flags)
{
    if (nargs != 3 || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    if (int_arg(args[2], flags) < 0)
        return -1;
    Py_ssize_t want = PyList_GET_SIZE(args[1]);
    return want > BATCH_MAX ? BATCH_MAX : want;
}

/* One message of a batch: the buffer's bytes, and where the address goes (or comes from). */
static void
set_message(struct mmsghdr *msg, struct iovec *iov, Py_buffer *view, struct sockaddr_storage *name, socklen_t namelen)
{
    iov->iov_base = view->buf;
    iov->iov_len = (size_t)view->len;
    memset(msg, 0, sizeof(*msg));
    msg->msg_hdr.msg_name = name;
    msg->msg_hdr.msg_namelen = namelen;
    msg->msg_hdr.msg_iov = iov;
    msg->msg_hdr.msg_iovlen = 1;
}

/* The system call of both primitives, the GIL released, retried after a signal as the socket
   module retries (PEP 475); the n buffers are released whatever happens.  Returns the kernel's
   result (-1 with *err set), or -2 with a Python exception set (a signal handler's).  The
   descriptor is read after the last Python code, as the socket module reads it per call. */
static int
mmsg_call(PyObject *sock, struct mmsghdr *msgs, Py_buffer *views, Py_ssize_t n, int flags, int send, int *err)
{
    int fd = PyObject_AsFileDescriptor(sock);
    int r = -2;
    while (fd >= 0) {
        Py_BEGIN_ALLOW_THREADS
        r = send ? sendmmsg(fd, msgs, (unsigned int)n, flags) : recvmmsg(fd, msgs, (unsigned int)n, flags, NULL);
        *err = errno;
        Py_END_ALLOW_THREADS
        if (r >= 0 || *err != EINTR)
            break;
        if (PyErr_CheckSignals() < 0) {
            r = -2;
            break;
        }
    }
    release_buffers(views, n);
    if (r != -2)
        __atomic_add_fetch(&batch_calls, 1, __ATOMIC_RELAXED);
    return r;
}

/* send_batch's system calls for a connected socket: one sendmsg per message, the GIL released
   around them all.  An error pending on a connected UDP socket (the ICMP port unreachable of an
   earlier datagram) fails the one send that meets it; sendmmsg drops an error met after its first
   message, so that message's operation would never hear of it.  Returns how many were sent, *err
   the errno of the message that failed (0: none did, or a signal came after some were sent: the
   rest are for a later call), or -2 with a Python exception set (a signal handler's, nothing
   sent).  The buffers are released whatever happens. */
static int
each_call(PyObject *sock, struct mmsghdr *msgs, Py_buffer *views, Py_ssize_t n, int flags, int *err)
{
    int fd = PyObject_AsFileDescriptor(sock);
    int sent = -2;
    *err = 0;
    while (fd >= 0) {
        Py_ssize_t i = sent < 0 ? 0 : sent;
        int e = 0;
        Py_BEGIN_ALLOW_THREADS
        for (; i < n; i++) {
            ssize_t r = sendmsg(fd, &msgs[i].msg_hdr, flags);
            if (r < 0) {
                e = errno;
                break;
            }
            msgs[i].msg_len = (unsigned int)r;
        }
        Py_END_ALLOW_THREADS
        sent = (int)i;
        if (e != EINTR) {
            *err = e;
            break;
        }
        if (i > 0)
            break; /* the handler runs at the caller's next check; what was sent is reported */
        if (PyErr_CheckSignals() < 0) {
            sent = -2;
            break;
        }
    }
    release_buffers(views, n);
    if (sent >= 0)
        __atomic_add_fetch(&batch_calls, 1, __ATOMIC_RELAXED);
    return sent;
}

/* Whether sock's descriptor is connected (a peer name to read). */
static int
is_connected(PyObject *sock)
{
    int fd = PyObject_AsFileDescriptor(sock);
    if (fd < 0) {
        PyErr_Clear();
        return 0;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    return getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/* The (results, error) pair of both primitives. */
static PyObject *
batch_result(PyObject *list, int err)
{
    if (list == NULL)
        return NULL;
    if (err == 0)
        return Py_BuildValue("(NO)", list, Py_None);
    PyObject *exc = oserror_from_errno(err);
    if (exc == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    return Py_BuildValue("(NN)", list, exc);
}

PyDoc_STRVAR(recv_batch_doc,
"recv_batch(sock, buffers, flags) -> (results, error)\n\n"
"One recvmmsg() on sock's descriptor for up to 64 buffers (memoryviews of bytes, each\n"
"filled by one datagram), the GIL released around it.  results holds, for the datagrams\n"
"received, in order, what sock.recvfrom_into(buffer, len(buffer), flags) would have\n"
"returned: (nbytes, address), nbytes being what the kernel reports (the bytes copied, or\n"
"the datagram's length when flags has MSG_TRUNC, exactly as recvfrom_into).  error is None,\n"
"or, when nothing was received, the OSError recvfrom_into would have raised\n"
"(BlockingIOError when no datagram is waiting).  ([], None) when buffers[0] is not a\n"
"buffer this call takes: the caller makes that operation's own call.  A buffer it cannot\n"
"take later in the list ends the batch before it.  An error after some datagrams is\n"
"reported by the kernel on the next call (recvmmsg keeps it as the socket's error).");

static PyObject *
recv_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    int flags;
    Py_ssize_t want = batch_args(args, nargs, "recv_batch(sock, buffers: list, flags: int)", &flags);
    if (want < 0)
        return NULL;
    Py_buffer views[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    struct sockaddr_storage names[BATCH_MAX];
    struct mmsghdr msgs[BATCH_MAX];
    Py_ssize_t n = 0;
    for (; n < want; n++) {
        if (!take_buffer(PyList_GET_ITEM(args[1], n), &views[n], 1))
            break;
        set_message(&msgs[n], &iov[n], &views[n], &names[n], sizeof(names[n]));
    }
    if (n == 0)
        return batch_result(PyList_New(0), 0);
    int err, r = mmsg_call(args[0], msgs, views, n, flags, 0, &err);
    if (r == -2)
        return NULL;
    if (r < 0)
        return batch_result(PyList_New(0), err);
    PyObject *list = PyList_New(r);
    if (list == NULL)
        return NULL;
    for (int i = 0; i < r; i++) {
        PyObject *addr = make_sockaddr(&names[i], msgs[i].msg_hdr.msg_namelen);
        PyObject *item = addr == NULL ? NULL : Py_BuildValue("(nN)", (Py_ssize_t)msgs[i].msg_len, addr);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return batch_result(list, 0);
}

PyDoc_STRVAR(send_batch_doc,
"send_batch(sock, messages, flags) -> (results, error, allowed)\n\n"
"One sendmmsg() on sock's descriptor for up to 64 (buffer, address) pairs, the GIL released\n"
"around it; on a connected socket one sendmsg() per message instead (the GIL released around\n"
"them all), so that an error pending on the socket (an ICMP error) fails the message that\n"
"meets it, as its own send would.  address None sends on the connected socket (what\n"
"sock.send does); otherwise it is a numeric address tuple of sock's family, of the shape\n"
"recvfrom returns, and the 'socket.sendto' audit event is raised for it before anything is\n"
"sent, as sock.sendto does.  results holds the byte count of each message sent, in order.\n"
"error is None, or what message len(results)'s own send would have raised: its OSError\n"
"(BlockingIOError when the socket buffer is full and nothing was sent), or the exception an\n"
"audit hook raised for it (that message is not sent; those before it are).  ([], None) when\n"
"the first message is not one this call takes (another buffer, a name to resolve): the\n"
"caller makes that operation's own call, which behaves as it always did.  Such a message\n"
"later in the list ends the batch before it.  Fewer results than messages and no error: the\n"
"kernel stopped there (a full buffer; on an unconnected socket an error it does not report\n"
"after a message has left, which the message's next call meets again); the rest, and the\n"
"verdict of an audit hook on a later message, are for a later call.  allowed: how many\n"
"leading messages were made ready for the call (their audit event raised and not refused):\n"
"those from len(results) on were not sent.  A message (buffer, address, True) is one the\n"
"hooks allowed in an earlier call: sent without asking them again.");

/* send_batch's work: the (results, error) pair; *allowed as send_batch says. */
static PyObject *
send_batch_pair(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *allowed)
{
    int flags;
    Py_ssize_t want = batch_args(args, nargs, "send_batch(sock, messages: list, flags: int)", &flags);
    if (want < 0)
        return NULL;
    PyObject *sock = args[0];
    /* The C socket's family member, as an int: socket.socket's own "family" builds an enum. */
    if (raw_family == NULL) {
        PyObject *mod = PyImport_ImportModule("_socket");
        PyObject *type = mod == NULL ? NULL : PyObject_GetAttrString(mod, "socket");
        raw_family = type == NULL ? NULL : PyObject_GetAttrString(type, "family");
        Py_XDECREF(type);
        Py_XDECREF(mod);
        if (raw_family == NULL)
            return NULL;
    }
    if (Py_TYPE(raw_family)->tp_descr_get == NULL) {
        PyErr_SetString(PyExc_TypeError, "_socket.socket.family is not a descriptor");
        return NULL;
    }
    PyObject *fam = Py_TYPE(raw_family)->tp_descr_get(raw_family, sock, NULL);
    if (fam == NULL)
        return NULL;
    int family;
    int bad = int_arg(fam, &family);
    Py_DECREF(fam);
    if (bad < 0)
        return NULL;
    Py_buffer views[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    struct sockaddr_storage names[BATCH_MAX];
    struct mmsghdr msgs[BATCH_MAX];
    Py_ssize_t n = 0;
    PyObject *refused = NULL; /* what an audit hook raised for message n, which ends the batch */
    for (; n < want; n++) {
        PyObject *item = PyList_GET_ITEM(args[1], n);
        Py_ssize_t size = PyTuple_CheckExact(item) ? PyTuple_GET_SIZE(item) : 0;
        if (size != 2 && size != 3)
            break;
        int allowed_before = size == 3 && PyTuple_GET_ITEM(item, 2) == Py_True;
        PyObject *addr = PyTuple_GET_ITEM(item, 1);
        socklen_t alen = 0;
        /* In sendto's order: the buffer, the address, then the audit event. */
        if (!take_buffer(PyTuple_GET_ITEM(item, 0), &views[n], 0))
            break;
        if (addr != Py_None) {
            /* Only the tuple shape of the socket's own family: sendto reads a tuple by the
               socket's family, and anything else takes its own path. */
            int ok = PyTuple_CheckExact(addr) && PyTuple_GET_SIZE(addr) == (family == AF_INET6 ? 4 : 2) &&
                     (family == AF_INET || family == AF_INET6) && parse_sockaddr(addr, &names[n], &alen);
            if (ok && !allowed_before && PySys_Audit("socket.sendto", "OO", sock, addr) < 0) {
                /* The hook was asked once: its answer is this message's outcome, not a
                   reason to ask it again in the message's own call. */
                refused = fetch_exception();
                ok = 0;
            }
            if (!ok) {
                PyBuffer_Release(&views[n]);
                break;
            }
        }
        set_message(&msgs[n], &iov[n], &views[n], addr != Py_None ? &names[n] : NULL, alen);
    }
    *allowed = n;
    if (n == 0) {
        if (refused != NULL)
            return Py_BuildValue("(NN)", PyList_New(0), refused);
        return batch_result(PyList_New(0), 0);
    }
    int err = 0, r;
    int connected = is_connected(sock);
    if (connected)
        r = each_call(sock, msgs, views, n, flags, &err);
    else
        r = mmsg_call(sock, msgs, views, n, flags, 1, &err);
    if (r == -2) {
        Py_XDECREF(refused);
        return NULL;
    }
    if (r < 0 || (r == 0 && err != 0)) {
        Py_XDECREF(refused);
        return batch_result(PyList_New(0), err);
    }
    PyObject *list = PyList_New(r);
    if (list == NULL) {
        Py_XDECREF(refused);
        return NULL;
    }
    for (int i = 0; i < r; i++) {
        PyObject *count = PyLong_FromUnsignedLong(msgs[i].msg_len);
        if (count == NULL) {
            Py_DECREF(list);
            Py_XDECREF(refused);
            return NULL;
        }
        PyList_SET_ITEM(list, i, count);
    }
    if (r == n && refused != NULL)
        return Py_BuildValue("(NN)", list, refused);
    Py_XDECREF(refused);
    /* each_call's error for message r, after some left (EAGAIN: the kernel stopped short). */
    if (connected && r < n && err != 0 && err != EAGAIN && err != EWOULDBLOCK)
        return batch_result(list, err);
    return batch_result(list, 0);
}

static PyObject *
send_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t allowed = 0;
    PyObject *pair = send_batch_pair(args, nargs, &allowed);
    if (pair == NULL)
        return NULL;
    PyObject *res = Py_BuildValue("(OOn)", PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1), allowed);
    Py_DECREF(pair);
    return res;
}

static PyObject *
batch_call_count(PyObject *module, PyObject *unused)
{
    return PyLong_FromLongLong(__atomic_load_n(&batch_calls, __ATOMIC_RELAXED));
}

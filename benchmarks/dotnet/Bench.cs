// The C# side of benchmarks/run_all.py: every workload of benchmarks/workloads_dotnet_sockets.py,
// written the same way (same threads, same throttling primitive, same buffer sizes, same counts,
// which run_all.py passes to both).  Compiled with mcs; run on .NET Core 3.1 (dotnetcore2) and Mono.
//
// Usage: Bench.exe WORKLOAD key=value ...   Prints one JSON line last:
//   {"value": <figure>, "unit": "...", "done": <operations>, "partial": <bool>}
// Receive workloads first print "PORT <n>" and wait for run_all.py's feeder process.
// Every loop is bounded in count and in time ("limit" seconds): past the limit the figure of
// what was done is printed with "partial": true and the process exits.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

static class Bench
{
    static Dictionary<string, string> P = new Dictionary<string, string>();
    static double Limit;
    static Stopwatch Clock;

    static int I(string k, int d) { string v; return P.TryGetValue(k, out v) ? int.Parse(v) : d; }
    static double D(string k, double d) { string v; return P.TryGetValue(k, out v) ? double.Parse(v, CultureInfo.InvariantCulture) : d; }
    static string F(double x) { return x.ToString("R", CultureInfo.InvariantCulture); }

    static void Report(double value, string unit, long done, bool partial, string extra = "")
    {
        Console.WriteLine("{\"value\": " + F(value) + ", \"unit\": \"" + unit + "\", \"done\": " + done +
                          ", \"partial\": " + (partial ? "true" : "false") + extra + "}");
        Console.Out.Flush();
        Environment.Exit(0);
    }

    static void Rate(long done, long wanted, double seconds, string unit)
    {
        Report(done / seconds, unit, done, done < wanted);
    }

    static int Remaining() { return Math.Max(1, (int)((Limit - Clock.Elapsed.TotalSeconds) * 1000)); }

    static Socket Udp() { return new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp); }
    static Socket Tcp() { return new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp); }

    static Socket Sink()
    {
        var r = Udp();
        r.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return r;
    }

    static int Main(string[] args)
    {
        string work = args[0];
        for (int i = 1; i < args.Length; i++)
        {
            int eq = args[i].IndexOf('=');
            P[args[i].Substring(0, eq)] = args[i].Substring(eq + 1);
        }
        Limit = D("limit", 30);
        Clock = Stopwatch.StartNew();
        switch (work)
        {
            case "sendto_sync": SendToSync(); break;
            case "sendto_sem": SendToSem(); break;
            case "sendto_unthrottled": SendToUnthrottled(); break;
            case "sendto_chains": SendToChains(); break;
            case "recv_begin": RecvBegin(); break;
            case "recv_saea": RecvSaea(); break;
            case "recv_await": RecvAwait(); break;
            case "ping_sync": PingSync(); break;
            case "ping_begin": PingBegin(); break;
            case "wake_begin": WakeBegin(); break;
            case "bulk_begin": BulkBegin(); break;
            case "bulk_await": BulkAwait(); break;
            case "echo_begin": EchoBegin(); break;
            case "echo_await": EchoAwait(); break;
            case "accept_begin": AcceptBegin(); break;
            case "stream_rw": StreamReadWrite(); break;
            case "client_echo": ClientEcho(); break;
            default: Console.Error.WriteLine("unknown workload " + work); return 2;
        }
        return 0;
    }

    // -- datagram sends: 'size'-byte datagrams to a loopback socket that never reads ---------------

    static void SendToSync()
    {
        int n = I("count", 100000), size = I("size", 32);
        var buf = new byte[size];
        var sink = Sink();
        EndPoint ep = sink.LocalEndPoint;
        var s = Udp();
        var t0 = Clock.Elapsed.TotalSeconds;
        int i = 0;
        for (; i < n; i++)
        {
            s.SendTo(buf, 0, size, SocketFlags.None, ep);
            if ((i & 1023) == 0 && Clock.Elapsed.TotalSeconds > Limit) break;
        }
        Rate(i, n, Clock.Elapsed.TotalSeconds - t0, "datagrams/s");
    }

    static void SendToSem()
    {
        int n = I("count", 100000), size = I("size", 32), slots = I("slots", 64);
        var buf = new byte[size];
        var sink = Sink();
        EndPoint ep = sink.LocalEndPoint;
        var s = Udp();
        var sem = new SemaphoreSlim(slots, slots);
        var done = new ManualResetEvent(false);
        int completed = 0;
        AsyncCallback cb = ar =>
        {
            s.EndSendTo(ar);
            sem.Release();
            if (Interlocked.Increment(ref completed) == n) done.Set();
        };
        var t0 = Clock.Elapsed.TotalSeconds;
        for (int i = 0; i < n; i++)
        {
            if (!sem.Wait(Remaining())) break;
            s.BeginSendTo(buf, 0, size, SocketFlags.None, ep, cb, null);
        }
        done.WaitOne(Remaining());
        Rate(Volatile.Read(ref completed), n, Clock.Elapsed.TotalSeconds - t0, "datagrams/s");
    }

    static void SendToUnthrottled()
    {
        int n = I("count", 100000), size = I("size", 32);
        var buf = new byte[size];
        var sink = Sink();
        EndPoint ep = sink.LocalEndPoint;
        var s = Udp();
        var done = new ManualResetEvent(false);
        int completed = 0;
        AsyncCallback cb = ar =>
        {
            s.EndSendTo(ar);
            if (Interlocked.Increment(ref completed) == n) done.Set();
        };
        var t0 = Clock.Elapsed.TotalSeconds;
        for (int i = 0; i < n; i++)
        {
            s.BeginSendTo(buf, 0, size, SocketFlags.None, ep, cb, null);
            if ((i & 1023) == 0 && Clock.Elapsed.TotalSeconds > Limit) break;
        }
        done.WaitOne(Remaining());
        Rate(Volatile.Read(ref completed), n, Clock.Elapsed.TotalSeconds - t0, "datagrams/s");
    }

    static void SendToChains()
    {
        int n = I("count", 100000), size = I("size", 32), chains = Math.Min(I("chains", 64), n);
        var buf = new byte[size];
        var sink = Sink();
        EndPoint ep = sink.LocalEndPoint;
        var s = Udp();
        var done = new ManualResetEvent(false);
        int issued = chains, completed = 0;
        AsyncCallback cb = null;
        cb = ar =>
        {
            s.EndSendTo(ar);
            int c = Interlocked.Increment(ref completed);
            if (c == n) done.Set();
            else if (Interlocked.Increment(ref issued) <= n && Clock.Elapsed.TotalSeconds < Limit)
                s.BeginSendTo(buf, 0, size, SocketFlags.None, ep, cb, null);
        };
        var t0 = Clock.Elapsed.TotalSeconds;
        for (int i = 0; i < chains; i++) s.BeginSendTo(buf, 0, size, SocketFlags.None, ep, cb, null);
        done.WaitOne(Remaining());
        Rate(Volatile.Read(ref completed), n, Clock.Elapsed.TotalSeconds - t0, "datagrams/s");
    }

    // -- UDP receive server fed by run_all.py's feeder process ---------------------------------------

    static int received;
    static ManualResetEvent firstArrived = new ManualResetEvent(false);

    static Socket ReceiveServer()
    {
        var s = Udp();
        s.ReceiveBufferSize = I("rcvbuf", 1 << 20);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Console.WriteLine("PORT " + ((IPEndPoint)s.LocalEndPoint).Port);
        Console.Out.Flush();
        return s;
    }

    static void Arrived()
    {
        if (Interlocked.Increment(ref received) == 1) firstArrived.Set();
    }

    // Counts what arrives between warmup and warmup + seconds after the first datagram.
    static void MeasureReceived()
    {
        double warmup = D("warmup", 0.3), seconds = D("seconds", 1.5);
        if (!firstArrived.WaitOne(Remaining())) Report(0, "datagrams/s", 0, true);
        Thread.Sleep((int)(warmup * 1000));
        int c0 = Volatile.Read(ref received);
        var t0 = Clock.Elapsed.TotalSeconds;
        Thread.Sleep((int)(seconds * 1000));
        int c1 = Volatile.Read(ref received);
        Report((c1 - c0) / (Clock.Elapsed.TotalSeconds - t0), "datagrams/s", c1 - c0, false);
    }

    static void RecvBegin()
    {
        var s = ReceiveServer();
        var buf = new byte[I("bufsize", 2048)];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        AsyncCallback cb = null;
        cb = ar =>
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            s.EndReceiveFrom(ar, ref from);
            Arrived();
            s.BeginReceiveFrom(buf, 0, buf.Length, SocketFlags.None, ref any, cb, null);
        };
        s.BeginReceiveFrom(buf, 0, buf.Length, SocketFlags.None, ref any, cb, null);
        MeasureReceived();
    }

    static void RecvSaea()
    {
        var s = ReceiveServer();
        var e = new SocketAsyncEventArgs();
        e.SetBuffer(new byte[I("bufsize", 2048)], 0, I("bufsize", 2048));
        e.RemoteEndPoint = new IPEndPoint(IPAddress.Any, 0);
        Action loop = () =>
        {
            // The usual SocketAsyncEventArgs loop: go on inline while the call completes at once.
            while (!s.ReceiveFromAsync(e)) Arrived();
        };
        e.Completed += (sender, args) => { Arrived(); loop(); };
        loop();
        MeasureReceived();
    }

    static void RecvAwait()
    {
        var s = ReceiveServer();
        var buf = new ArraySegment<byte>(new byte[I("bufsize", 2048)]);
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        Func<Task> loop = async () =>
        {
            while (true)
            {
                await s.ReceiveFromAsync(buf, SocketFlags.None, any);
                Arrived();
            }
        };
        var task = Task.Run(loop);
        MeasureReceived();
    }

    // -- UDP ping-pong: one request outstanding, echo server in the same process -------------------

    static void ReportLatency(List<double> rtts, int warmup, int wanted)
    {
        int n = rtts.Count;
        var kept = rtts.GetRange(Math.Min(warmup, n), n - Math.Min(warmup, n));
        kept.Sort();
        if (kept.Count == 0) Report(0, "us p50", 0, true);
        double p50 = kept[kept.Count / 2], p99 = kept[Math.Min(kept.Count - 1, (int)(kept.Count * 0.99))];
        Report(p50, "us p50", kept.Count, n < wanted, ", \"p99\": " + F(p99));
    }

    static double Us(long ticks) { return ticks * 1e6 / Stopwatch.Frequency; }

    static void PingSync()
    {
        int n = I("count", 5000), warmup = I("warmup", 500), size = I("size", 32);
        var server = Udp();
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint sep = server.LocalEndPoint;
        var echo = new Thread(() =>
        {
            var b = new byte[2048];
            try
            {
                while (true)
                {
                    EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                    int k = server.ReceiveFrom(b, 0, b.Length, SocketFlags.None, ref from);
                    server.SendTo(b, 0, k, SocketFlags.None, from);
                }
            }
            catch (Exception) { }  // closed at the end
        });
        echo.IsBackground = true;
        echo.Start();
        var c = Udp();
        c.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        c.ReceiveTimeout = 2000;
        var buf = new byte[size];
        var rbuf = new byte[2048];
        var rtts = new List<double>(n + warmup);
        for (int i = 0; i < n + warmup && Clock.Elapsed.TotalSeconds < Limit; i++)
        {
            long t = Stopwatch.GetTimestamp();
            c.SendTo(buf, 0, size, SocketFlags.None, sep);
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            c.ReceiveFrom(rbuf, 0, rbuf.Length, SocketFlags.None, ref from);
            rtts.Add(Us(Stopwatch.GetTimestamp() - t));
        }
        ReportLatency(rtts, warmup, n + warmup);
    }

    static void PingBegin()
    {
        int n = I("count", 5000), warmup = I("warmup", 500), size = I("size", 32);
        var server = Udp();
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint sep = server.LocalEndPoint;
        var sbuf = new byte[2048];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        AsyncCallback onServerSent = ar => server.EndSendTo(ar);
        AsyncCallback onServerRecv = null;
        onServerRecv = ar =>
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int k = server.EndReceiveFrom(ar, ref from);
            server.BeginSendTo(sbuf, 0, k, SocketFlags.None, from, onServerSent, null);
            server.BeginReceiveFrom(sbuf, 0, sbuf.Length, SocketFlags.None, ref any, onServerRecv, null);
        };
        server.BeginReceiveFrom(sbuf, 0, sbuf.Length, SocketFlags.None, ref any, onServerRecv, null);

        var c = Udp();
        c.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var buf = new byte[size];
        var rbuf = new byte[2048];
        var rtts = new List<double>(n + warmup);
        var done = new ManualResetEvent(false);
        long started = 0;
        AsyncCallback onSent = ar => c.EndSendTo(ar);
        AsyncCallback onRecv = null;
        Action next = () =>
        {
            started = Stopwatch.GetTimestamp();
            c.BeginReceiveFrom(rbuf, 0, rbuf.Length, SocketFlags.None, ref any, onRecv, null);
            c.BeginSendTo(buf, 0, size, SocketFlags.None, sep, onSent, null);
        };
        onRecv = ar =>
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            c.EndReceiveFrom(ar, ref from);
            rtts.Add(Us(Stopwatch.GetTimestamp() - started));
            if (rtts.Count >= n + warmup || Clock.Elapsed.TotalSeconds > Limit) done.Set();
            else next();
        };
        next();
        done.WaitOne(Remaining());
        lock (rtts) ReportLatency(new List<double>(rtts), warmup, n + warmup);
    }

    // One report at a time, each finding the runtime idle: the main thread sends a datagram and
    // waits for the BeginReceiveFrom callback (which re-arms the receive) to set an event.
    static void WakeBegin()
    {
        var server = Sink(); // a bound socket, which here does read
        var sbuf = new byte[2048];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        var got = new AutoResetEvent(false);
        AsyncCallback onRecv = null;
        onRecv = ar =>
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            server.EndReceiveFrom(ar, ref from);
            server.BeginReceiveFrom(sbuf, 0, sbuf.Length, SocketFlags.None, ref any, onRecv, null);
            got.Set();
        };
        server.BeginReceiveFrom(sbuf, 0, sbuf.Length, SocketFlags.None, ref any, onRecv, null);
        int n = I("count", 5000), warmup = I("warmup", 500), size = I("size", 32);
        EndPoint sep = server.LocalEndPoint;
        var c = Udp();
        var buf = new byte[size];
        var rtts = new List<double>(n + warmup);
        while (rtts.Count < n + warmup && Clock.Elapsed.TotalSeconds <= Limit)
        {
            long t = Stopwatch.GetTimestamp();
            c.SendTo(buf, 0, size, SocketFlags.None, sep);
            if (!got.WaitOne(Remaining())) break;
            rtts.Add(Us(Stopwatch.GetTimestamp() - t));
        }
        ReportLatency(rtts, warmup, n + warmup);
    }

    // -- TCP bulk: one connection, 'total' bytes in 'block'-byte blocks, both ends in this process --

    static void Pair(out Socket client, out Socket server)
    {
        var l = Tcp();
        l.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        l.Listen(16);
        client = Tcp();
        client.Connect(l.LocalEndPoint);
        server = l.Accept();
        l.Close();
    }

    static void BulkBegin()
    {
        long total = (long)D("total", 64 << 20);
        int block = I("block", 65536);
        Socket c, s;
        Pair(out c, out s);
        var sbuf = new byte[block];
        var rbuf = new byte[block];
        long sent = 0, got = 0;
        var done = new ManualResetEvent(false);
        AsyncCallback onSent = null, onRecv = null;
        onSent = ar =>
        {
            sent += c.EndSend(ar);
            if (sent < total && Clock.Elapsed.TotalSeconds < Limit)
                c.BeginSend(sbuf, 0, (int)Math.Min(block, total - sent), SocketFlags.None, onSent, null);
        };
        onRecv = ar =>
        {
            int k = s.EndReceive(ar);
            got += k;
            if (got >= total || k == 0 || Clock.Elapsed.TotalSeconds > Limit) done.Set();
            else s.BeginReceive(rbuf, 0, block, SocketFlags.None, onRecv, null);
        };
        var t0 = Clock.Elapsed.TotalSeconds;
        s.BeginReceive(rbuf, 0, block, SocketFlags.None, onRecv, null);
        c.BeginSend(sbuf, 0, block, SocketFlags.None, onSent, null);
        done.WaitOne(Remaining());
        Report(Interlocked.Read(ref got) / (Clock.Elapsed.TotalSeconds - t0), "bytes/s", got, got < total);
    }

    static void BulkAwait()
    {
        long total = (long)D("total", 64 << 20);
        int block = I("block", 65536);
        Socket c, s;
        Pair(out c, out s);
        long got = 0;
        Func<Task> writer = async () =>
        {
            var b = new byte[block];
            long sent = 0;
            while (sent < total && Clock.Elapsed.TotalSeconds < Limit)
                sent += await c.SendAsync(new ArraySegment<byte>(b, 0, (int)Math.Min(block, total - sent)), SocketFlags.None);
        };
        Func<Task> reader = async () =>
        {
            var b = new ArraySegment<byte>(new byte[block]);
            while (got < total && Clock.Elapsed.TotalSeconds < Limit)
            {
                int k = await s.ReceiveAsync(b, SocketFlags.None);
                if (k == 0) break;
                got += k;
            }
        };
        var t0 = Clock.Elapsed.TotalSeconds;
        var r = Task.Run(reader);
        var w = Task.Run(writer);
        r.Wait(Remaining());
        Report(Interlocked.Read(ref got) / (Clock.Elapsed.TotalSeconds - t0), "bytes/s", got, got < total);
    }

    // -- TCP echo: 'conns' connections, each 'rounds' 'size'-byte request/response round trips --------

    static int echoed;
    static ManualResetEvent echoDone = new ManualResetEvent(false);

    static void EchoBegin()
    {
        int conns = I("conns", 100), rounds = I("rounds", 50), size = I("size", 128);
        int wanted = conns * rounds;
        var l = Tcp();
        l.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        l.Listen(conns);
        AsyncCallback onAccept = null;
        onAccept = ar =>
        {
            Socket a;
            try { a = l.EndAccept(ar); } catch (ObjectDisposedException) { return; }
            new BeginEchoServer(a, size).Start();
            l.BeginAccept(onAccept, null);
        };
        l.BeginAccept(onAccept, null);
        var clients = new List<BeginEchoClient>();
        for (int i = 0; i < conns; i++)
        {
            var c = Tcp();
            c.Connect(l.LocalEndPoint);
            clients.Add(new BeginEchoClient(c, size, rounds, wanted));
        }
        var t0 = Clock.Elapsed.TotalSeconds;
        foreach (var c in clients) c.Next();
        echoDone.WaitOne(Remaining());
        Rate(Volatile.Read(ref echoed), wanted, Clock.Elapsed.TotalSeconds - t0, "round trips/s");
    }

    sealed class BeginEchoServer
    {
        readonly Socket s; readonly byte[] buf;
        public BeginEchoServer(Socket s, int size) { this.s = s; buf = new byte[size]; }
        public void Start() { s.BeginReceive(buf, 0, buf.Length, SocketFlags.None, OnRecv, null); }
        void OnRecv(IAsyncResult ar)
        {
            int k;
            try { k = s.EndReceive(ar); } catch (Exception) { return; }
            if (k == 0) { s.Close(); return; }
            s.BeginSend(buf, 0, k, SocketFlags.None, OnSent, null);
        }
        void OnSent(IAsyncResult ar)
        {
            try { s.EndSend(ar); } catch (Exception) { return; }
            Start();
        }
    }

    sealed class BeginEchoClient
    {
        readonly Socket s; readonly byte[] req, resp; readonly int rounds, wanted; int done, got;
        public BeginEchoClient(Socket s, int size, int rounds, int wanted)
        { this.s = s; req = new byte[size]; resp = new byte[size]; this.rounds = rounds; this.wanted = wanted; }
        public void Next()
        {
            got = 0;
            s.BeginReceive(resp, 0, resp.Length, SocketFlags.None, OnRecv, null);
            s.BeginSend(req, 0, req.Length, SocketFlags.None, OnSent, null);
        }
        void OnSent(IAsyncResult ar) { s.EndSend(ar); }
        void OnRecv(IAsyncResult ar)
        {
            int k = s.EndReceive(ar);
            if (k == 0) return;
            got += k;
            if (got < resp.Length) { s.BeginReceive(resp, got, resp.Length - got, SocketFlags.None, OnRecv, null); return; }
            if (Interlocked.Increment(ref echoed) == wanted) echoDone.Set();
            if (++done < rounds && Clock.Elapsed.TotalSeconds < Limit) Next();
        }
    }

    static void EchoAwait()
    {
        int conns = I("conns", 100), rounds = I("rounds", 50), size = I("size", 128);
        int wanted = conns * rounds;
        var l = Tcp();
        l.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        l.Listen(conns);
        Func<Socket, Task> serve = async a =>
        {
            var b = new byte[size];
            while (true)
            {
                int k = await a.ReceiveAsync(new ArraySegment<byte>(b), SocketFlags.None);
                if (k == 0) break;
                await a.SendAsync(new ArraySegment<byte>(b, 0, k), SocketFlags.None);
            }
            a.Close();
        };
        Func<Task> accept = async () =>
        {
            for (int i = 0; i < conns; i++)
            {
                var a = await l.AcceptAsync();
                var ignored = serve(a);
            }
        };
        var acceptor = Task.Run(accept);
        var clients = new List<Socket>();
        for (int i = 0; i < conns; i++)
        {
            var c = Tcp();
            c.Connect(l.LocalEndPoint);
            clients.Add(c);
        }
        Func<Socket, Task> client = async c =>
        {
            var req = new byte[size];
            var resp = new byte[size];
            for (int r = 0; r < rounds && Clock.Elapsed.TotalSeconds < Limit; r++)
            {
                await c.SendAsync(new ArraySegment<byte>(req), SocketFlags.None);
                int got = 0;
                while (got < size)
                {
                    int k = await c.ReceiveAsync(new ArraySegment<byte>(resp, got, size - got), SocketFlags.None);
                    if (k == 0) return;
                    got += k;
                }
                Interlocked.Increment(ref echoed);
            }
        };
        var t0 = Clock.Elapsed.TotalSeconds;
        var tasks = new List<Task>();
        foreach (var c in clients) tasks.Add(Task.Run(() => client(c)));
        Task.WaitAll(tasks.ToArray(), Remaining());
        Rate(Volatile.Read(ref echoed), wanted, Clock.Elapsed.TotalSeconds - t0, "round trips/s");
    }

    // -- connections accepted per second: BeginAccept server; the client connects, sends, closes ---

    static void AcceptBegin()
    {
        int n = I("count", 2000);
        var l = Tcp();
        l.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        l.Listen(512);
        int accepted = 0;
        var done = new ManualResetEvent(false);
        AsyncCallback onAccept = null;
        onAccept = ar =>
        {
            Socket a;
            try { a = l.EndAccept(ar); } catch (ObjectDisposedException) { return; }
            a.Close();
            if (Interlocked.Increment(ref accepted) == n) done.Set();
            else l.BeginAccept(onAccept, null);
        };
        var payload = new byte[1];
        var t0 = Clock.Elapsed.TotalSeconds;
        l.BeginAccept(onAccept, null);
        for (int i = 0; i < n && Clock.Elapsed.TotalSeconds < Limit; i++)
        {
            var c = Tcp();
            c.Connect(l.LocalEndPoint);
            c.Send(payload, 0, 1, SocketFlags.None);
            c.Close();
        }
        done.WaitOne(Remaining());
        Rate(Volatile.Read(ref accepted), n, Clock.Elapsed.TotalSeconds - t0, "connections/s");
    }

    // -- the client layer: TcpListener, TcpClient, NetworkStream ------------------------------------

    static void StreamReadWrite()
    {
        long total = (long)D("total", 64 << 20);
        int block = I("block", 65536);
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var client = new TcpClient();
        client.Connect((IPEndPoint)l.LocalEndpoint);
        var accepted = l.AcceptTcpClient();
        l.Stop();
        var ws = client.GetStream();
        var rs = accepted.GetStream();
        rs.ReadTimeout = 5000;
        var writer = new Thread(() =>
        {
            var b = new byte[block];
            long sent = 0;
            try
            {
                while (sent < total && Clock.Elapsed.TotalSeconds < Limit)
                {
                    int k = (int)Math.Min(block, total - sent);
                    ws.Write(b, 0, k);
                    sent += k;
                }
            }
            catch (Exception) { }  // the reader gave up
        });
        writer.IsBackground = true;
        var rbuf = new byte[block];
        long got = 0;
        var t0 = Clock.Elapsed.TotalSeconds;
        writer.Start();
        while (got < total && Clock.Elapsed.TotalSeconds < Limit)
        {
            int k = rs.Read(rbuf, 0, block);
            if (k == 0) break;
            got += k;
        }
        Report(got / (Clock.Elapsed.TotalSeconds - t0), "bytes/s", got, got < total);
    }

    static void ClientEcho()
    {
        int n = I("count", 5000), size = I("size", 128);
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var server = new Thread(() =>
        {
            try
            {
                using (var a = l.AcceptTcpClient())
                {
                    var st = a.GetStream();
                    var b = new byte[size];
                    int k;
                    while ((k = st.Read(b, 0, size)) > 0) st.Write(b, 0, k);
                }
            }
            catch (Exception) { }  // closed at the end
        });
        server.IsBackground = true;
        server.Start();
        var c = new TcpClient();
        c.Connect((IPEndPoint)l.LocalEndpoint);
        var s = c.GetStream();
        s.ReadTimeout = 5000;
        var req = new byte[size];
        var resp = new byte[size];
        var t0 = Clock.Elapsed.TotalSeconds;
        int i = 0;
        for (; i < n && Clock.Elapsed.TotalSeconds < Limit; i++)
        {
            s.Write(req, 0, size);
            int got = 0;
            while (got < size)
            {
                int k = s.Read(resp, got, size - got);
                if (k == 0) break;
                got += k;
            }
        }
        Rate(i, n, Clock.Elapsed.TotalSeconds - t0, "round trips/s");
    }
}

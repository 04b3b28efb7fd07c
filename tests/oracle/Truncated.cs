// What .NET does with a datagram larger than the receive buffer, in every receive form.
// Build: mcs -out:Truncated.exe Truncated.cs; run with .NET Core 3.1's dotnet host (see
// /work/shared/dotnet-oracle/README.md) and with mono.  One line per form:
// form, outcome (ok/throws), bytes, SocketError, SocketFlags.  Loopback only, every wait bounded.
using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

static class Truncated
{
    static Socket Receiver()
    {
        var r = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        r.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        r.ReceiveTimeout = 3000;
        return r;
    }

    static void Send(Socket r)
    {
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
            s.SendTo(new byte[100], r.LocalEndPoint);
    }

    static void Line(string form, string outcome, int bytes, object error, object flags)
    {
        Console.WriteLine("{0} {1} bytes={2} error={3} flags={4}", form, outcome, bytes, error, flags);
    }

    static void Run(string form, Action<Socket, byte[]> body)
    {
        var r = Receiver();
        try
        {
            Send(r);
            body(r, new byte[10]);
        }
        catch (SocketException ex)
        {
            Line(form, "throws", -1, ex.SocketErrorCode, "-");
        }
        catch (Exception ex)
        {
            Line(form, "throws " + ex.GetType().Name, -1, "-", "-");
        }
        finally
        {
            r.Close();
        }
    }

    static void Args(string form, Socket r, byte[] buf, Func<Socket, SocketAsyncEventArgs, bool> start)
    {
        var e = new SocketAsyncEventArgs();
        e.SetBuffer(buf, 0, buf.Length);
        e.RemoteEndPoint = new IPEndPoint(IPAddress.Any, 0);
        var done = new ManualResetEventSlim();
        e.Completed += (s, a) => done.Set();
        if (start(r, e) && !done.Wait(3000))
        {
            Line(form, "blocks", -1, "-", "-");
            return;
        }
        Line(form, "ok", e.BytesTransferred, e.SocketError, e.SocketFlags);
    }

    static void Main()
    {
        Run("Receive", (r, b) => Line("Receive", "ok", r.Receive(b), "-", "-"));
        Run("Receive_out_error", (r, b) =>
        {
            SocketError err;
            int n = r.Receive(b, 0, b.Length, SocketFlags.None, out err);
            Line("Receive_out_error", "ok", n, err, "-");
        });
        Run("ReceiveFrom", (r, b) =>
        {
            EndPoint ep = new IPEndPoint(IPAddress.Any, 0);
            Line("ReceiveFrom", "ok", r.ReceiveFrom(b, ref ep), "-", "-");
        });
        Run("ReceiveMessageFrom", (r, b) =>
        {
            EndPoint ep = new IPEndPoint(IPAddress.Any, 0);
            SocketFlags f = SocketFlags.None;
            IPPacketInformation info;
            int n = r.ReceiveMessageFrom(b, 0, b.Length, ref f, ref ep, out info);
            Line("ReceiveMessageFrom", "ok", n, "-", f);
        });
        Run("BeginReceive", (r, b) =>
        {
            var ar = r.BeginReceive(b, 0, b.Length, SocketFlags.None, null, null);
            Line("BeginReceive", "ok", r.EndReceive(ar), "-", "-");
        });
        Run("BeginReceiveFrom", (r, b) =>
        {
            EndPoint ep = new IPEndPoint(IPAddress.Any, 0);
            var ar = r.BeginReceiveFrom(b, 0, b.Length, SocketFlags.None, ref ep, null, null);
            Line("BeginReceiveFrom", "ok", r.EndReceiveFrom(ar, ref ep), "-", "-");
        });
        Run("BeginReceiveMessageFrom", (r, b) =>
        {
            EndPoint ep = new IPEndPoint(IPAddress.Any, 0);
            var ar = r.BeginReceiveMessageFrom(b, 0, b.Length, SocketFlags.None, ref ep, null, null);
            SocketFlags f = SocketFlags.None;
            IPPacketInformation info;
            int n = r.EndReceiveMessageFrom(ar, ref f, ref ep, out info);
            Line("BeginReceiveMessageFrom", "ok", n, "-", f);
        });
        Run("ReceiveAsync(e)", (r, b) => Args("ReceiveAsync(e)", r, b, (s, e) => s.ReceiveAsync(e)));
        Run("ReceiveFromAsync(e)", (r, b) => Args("ReceiveFromAsync(e)", r, b, (s, e) => s.ReceiveFromAsync(e)));
        Run("ReceiveMessageFromAsync(e)", (r, b) => Args("ReceiveMessageFromAsync(e)", r, b, (s, e) => s.ReceiveMessageFromAsync(e)));
        Run("ReceiveAsync(task)", (r, b) =>
        {
            var t = r.ReceiveAsync(new ArraySegment<byte>(b), SocketFlags.None);
            Line("ReceiveAsync(task)", "ok", t.Wait(3000) ? t.Result : -1, "-", "-");
        });
        Run("ReceiveFromAsync(task)", (r, b) =>
        {
            var t = r.ReceiveFromAsync(new ArraySegment<byte>(b), SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
            Line("ReceiveFromAsync(task)", "ok", t.Wait(3000) ? t.Result.ReceivedBytes : -1, "-", "-");
        });
        Run("ReceiveMessageFromAsync(task)", (r, b) =>
        {
            var t = r.ReceiveMessageFromAsync(new ArraySegment<byte>(b), SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
            if (t.Wait(3000)) Line("ReceiveMessageFromAsync(task)", "ok", t.Result.ReceivedBytes, "-", t.Result.SocketFlags);
            else Line("ReceiveMessageFromAsync(task)", "blocks", -1, "-", "-");
        });
    }
}

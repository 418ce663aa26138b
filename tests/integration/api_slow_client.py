#!/usr/bin/env python3
# A client that sends its request one byte per second over mTLS. Prints how many seconds passed
# until the server closed the connection (or "never" after LIMIT seconds).
import socket, ssl, sys, time

host, port, pki, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_verify_locations(pki + "/ca.pem")
ctx.load_cert_chain(pki + "/operator.pem", pki + "/operator.key")
req = (b"POST /vnflcm/v2/vnf_instances HTTP/1.1\r\nHost: x\r\nVersion: 2.0.0\r\n"
       b"Content-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"vnfdId\":\"fw\"}  ")
start = time.monotonic()
with socket.create_connection((host, port)) as raw, ctx.wrap_socket(raw, server_hostname=host) as s:
    s.settimeout(1.0)
    for b in req:
        try:
            s.sendall(bytes([b]))
            data = s.recv(1)
            if data == b"":
                break
            print("answered", data)
            break
        except socket.timeout:
            pass
        except (ssl.SSLError, OSError):
            break
        if time.monotonic() - start > limit:
            print("never")
            sys.exit(0)
print(round(time.monotonic() - start, 1))

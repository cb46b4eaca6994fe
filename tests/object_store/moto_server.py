"""An S3-compatible server for the object-store tests (tests/cli/objects.rs): moto in server
mode on 127.0.0.1 with the buckets the tests use; in `auth` mode with authentication on and
two users.

Prints one JSON line: {"port", "reader": {id, secret}, "stranger": {id, secret}}. `reader` may
read and write every bucket; `stranger` is a valid user with no policy, so S3 denies it. Every
request is logged to the file named by the first argument as a JSON line (method, path, query,
Range header, status), so a test can see which bytes were asked for. The server stops when its
standard input closes (when the test process exits)."""

import json
import os
import sys

# `auth` (second argument): signatures are checked, and the first three calls (creating the
# administrator) go through without one. moto's check refuses some valid signatures (keys with
# `=`, list requests with a prefix), so the tests that list use an `open` server, which takes
# any signature, and only the tests of access denied use this one.
AUTH = len(sys.argv) > 2 and sys.argv[2] == "auth"
if AUTH:
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"

import threading  # noqa: E402

import boto3  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

BUCKETS = ["bills", "deliveries"]


def logged(app, log):
    lock = threading.Lock()

    def middleware(environ, start_response):
        entry = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "range": environ.get("HTTP_RANGE"),
        }

        def start(status, headers, exc_info=None):
            entry["status"] = int(status.split()[0])
            with lock:
                log.write(json.dumps(entry) + "\n")
                log.flush()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return middleware


def main():
    log = open(sys.argv[1], "a") if len(sys.argv) > 1 else open(os.devnull, "w")
    app = logged(DomainDispatcherApplication(create_backend_app), log)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    endpoint = f"http://{host}:{port}"
    if not AUTH:
        reader = dict(id="AKIAOPENSERVER", secret="open-server-secret-value")
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=reader["id"], aws_secret_access_key=reader["secret"])
        for b in BUCKETS:
            s3.create_bucket(Bucket=b)
        print(json.dumps({"port": port, "reader": reader, "stranger": reader}), flush=True)
        sys.stdin.read()
        server.shutdown()
        return
    anon = dict(endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **anon)
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    iam.put_user_policy(UserName="reader", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    reader = dict(id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    signed = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=reader["id"], aws_secret_access_key=reader["secret"])
    iam = boto3.client("iam", **signed)
    iam.create_user(UserName="stranger")
    key = iam.create_access_key(UserName="stranger")["AccessKey"]
    stranger = dict(id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    s3 = boto3.client("s3", **signed)
    for b in BUCKETS:
        s3.create_bucket(Bucket=b)
    print(json.dumps({"port": port, "reader": reader, "stranger": stranger}), flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()

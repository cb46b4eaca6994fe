"""Puts files into an Azurite blob service for tests/cli/objects.rs: creates the container if
needed and uploads each `key=path` pair, with Azurite's well-known development account.

    python3 azurite_put.py PORT CONTAINER key=path [key=path ...]"""

import sys

from azure.storage.blob import BlobServiceClient

# Azurite's published development account and key (not a secret)
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def main():
    port, container, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    service = BlobServiceClient.from_connection_string(
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )
    client = service.get_container_client(container)
    if not client.exists():
        client.create_container()
    for pair in pairs:
        key, path = pair.split("=", 1)
        with open(path, "rb") as f:
            client.upload_blob(key, f, overwrite=True)


if __name__ == "__main__":
    main()

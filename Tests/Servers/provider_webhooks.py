#!/usr/bin/python3
"""Keys and signatures of the mail providers' webhooks, made with Python's cryptography, for the
tests of Herald's /inbound/bounces routes (so no signature is made by Herald's own code).

  provider_webhooks.py keys DIR
      writes DIR/tls-{key,cert}.pem (for the HTTPS server that plays sns.amazonaws.com),
      DIR/sns-{key,cert}.pem (the SNS signing certificate), DIR/sendgrid-key.pem, and prints
      {"sendgrid_public_key": base64 DER}
  provider_webhooks.py sign-sns DIR FILE         FILE: an SNS message without its signature; prints it signed (SignatureVersion 2)
  provider_webhooks.py sign-sendgrid DIR TIMESTAMP FILE    prints the base64 ECDSA signature of TIMESTAMP + FILE's bytes
  provider_webhooks.py sign-mailgun KEY TIMESTAMP TOKEN    prints the hex HMAC-SHA256
"""
import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID


def write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def self_signed(key, name):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def keys(folder):
    for name, common in (("tls", "127.0.0.1"), ("sns", "sns.amazonaws.com")):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        write_key(os.path.join(folder, name + "-key.pem"), key)
        with open(os.path.join(folder, name + "-cert.pem"), "wb") as f:
            f.write(self_signed(key, common).public_bytes(serialization.Encoding.PEM))
    sendgrid = ec.generate_private_key(ec.SECP256R1())
    write_key(os.path.join(folder, "sendgrid-key.pem"), sendgrid)
    public = sendgrid.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    print(json.dumps({"sendgrid_public_key": base64.b64encode(public).decode()}))


def load(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def sign_sns(folder, path):
    message = json.load(open(path))
    names = (["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] if message["Type"] == "Notification"
             else ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"])
    text = "".join("%s\n%s\n" % (name, message[name]) for name in names if name in message)
    signature = load(os.path.join(folder, "sns-key.pem")).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    message["SignatureVersion"] = "2"
    message["Signature"] = base64.b64encode(signature).decode()
    print(json.dumps(message))


def main():
    command = sys.argv[1]
    if command == "keys":
        keys(sys.argv[2])
    elif command == "sign-sns":
        sign_sns(sys.argv[2], sys.argv[3])
    elif command == "sign-sendgrid":
        body = open(sys.argv[4], "rb").read()
        signature = load(os.path.join(sys.argv[2], "sendgrid-key.pem")).sign(sys.argv[3].encode() + body, ec.ECDSA(hashes.SHA256()))
        print(base64.b64encode(signature).decode())
    elif command == "sign-mailgun":
        print(hmac.new(sys.argv[2].encode(), (sys.argv[3] + sys.argv[4]).encode(), hashlib.sha256).hexdigest())
    else:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""WeCom callback encryption against published vectors: Tencent's official
Python callback sample (sbzhu/weworkapi_python, the commit before its keys
were blanked) and a fixed-random encryption vector from wechatpy's tests."""

import base64

import pytest

from bot.wecom_crypto import CryptoError, WeComCrypto, decrypt_bytes, pad, signature, unpad

# Tencent's sample: callback/Sample.py at 16e0b05.
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"


def test_official_url_verification():
    c = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    echo = c.verify_url("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
                        "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==")
    assert echo == "1288432023552776189"


def test_official_message_decryption():
    c = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    encrypted = ("Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+"
                 "kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZ"
                 "H4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocu"
                 "gux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+")
    plain = c.open("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", encrypted)
    assert plain == ("<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
                     "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
                     "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>")


def test_official_json_variant_decrypts():
    c = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    encrypted = ("cjhLUX7UU4yCSelv1vz7T0zT8huF51bAMVWriNvO1FMegHrQZNrtvRxbwf0fUPsFvwqR0U0fgiJNEA5Y30F2MoI2S7vv3EjVQ68C0cjw9fr"
                 "BoUE2Hj0BvFp9h3u6Vbsg4lc1C8AtHdaN8orKuNKkLRLuYEL52R1J3v8olJGZRLnRdVKIivixmX/eQpzgeExtp20jI1HxRP1AAZ6xZoILdqDP"
                 "O549LO4WeG+685JRUTdiwcY5fjZlqeMxuT4PpMn1X9OWsS7NRj06Wa5E3Tvg4twjWp39KPfOdRte6P1T4JU=")
    plain = c.open("e3647471e395139e2308c1fa963f2d648a00b90e", "1409659813", "1372623149", encrypted)
    assert '"Content": "hello"' in plain and '"MsgId": 4561255354251345929' in plain


def test_fixed_random_encryption_matches_byte_for_byte():
    """wechatpy tests/test_crypto.py::test_encrypt_message (random fixed to '1234567890123456')."""
    c = WeComCrypto("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a")
    reply = ("<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
             "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
             "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>")
    expected = ("9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtOb"
                "vesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrr"
                "NrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0"
                "nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3")
    encrypted = c.encrypt(reply, random16=b"1234567890123456")
    assert encrypted == expected
    assert signature("123456", "1411525903", "461056294", encrypted) == "407518b7649e86ef23978113f92d27afa9296533"
    # wechatpy's URL verification vector for the same key.
    assert c.verify_url("dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374425",
                        "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==") == "5927782489442352469"


def test_round_trip_with_an_empty_receive_id_for_the_ai_bot():
    c = WeComCrypto(TOKEN, AES_KEY, "")
    sealed = c.encrypt('{"msgtype":"text","text":{"content":"CAS-04716-C3F2K9"}}')
    assert c.decrypt(sealed).endswith('"CAS-04716-C3F2K9"}}')


@pytest.mark.parametrize("mutate", ["signature", "timestamp", "receiver", "garbage", "truncated"])
def test_tampered_callbacks_are_refused(mutate):
    c = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    encrypted = c.encrypt("<xml><Content>x</Content></xml>")
    sig = signature(TOKEN, "1700000000", "42", encrypted)
    with pytest.raises(CryptoError):
        if mutate == "signature":
            c.open("0" * 40, "1700000000", "42", encrypted)
        elif mutate == "timestamp":
            c.open(sig, "1700000001", "42", encrypted)
        elif mutate == "receiver":
            WeComCrypto(TOKEN, AES_KEY, "wwsomeoneelse").open(sig, "1700000000", "42", encrypted)
        elif mutate == "garbage":
            bad = base64.b64encode(b"\x00" * 48).decode()
            c.open(signature(TOKEN, "1", "2", bad), "1", "2", bad)
        else:
            short = encrypted[:20]
            c.open(signature(TOKEN, "1", "2", short), "1", "2", short)


def test_padding_is_to_32_byte_blocks():
    assert len(pad(b"x" * 17)) == 32 and pad(b"x" * 32)[-1] == 32
    assert unpad(pad(b"abc")) == b"abc"
    with pytest.raises(CryptoError):
        unpad(b"x" * 31 + b"\x21")


def test_media_decryption_of_the_ai_bot():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(AES_KEY + "=")
    data = b"PAGEDU64" + bytes(1000)
    e = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    blob = e.update(pad(data)) + e.finalize()
    assert decrypt_bytes(key, blob) == data


def test_stream_decryption_of_a_large_file(tmp_path):
    import os

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from bot.wecom_crypto import decrypt_file

    key = base64.b64decode(AES_KEY + "=")
    data = os.urandom(3 * 1024 * 1024 + 17)
    e = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    (tmp_path / "enc").write_bytes(e.update(pad(data)) + e.finalize())
    assert decrypt_file(key, str(tmp_path / "enc"), str(tmp_path / "dec"), chunk=64 * 1024 + 5) == len(data)
    assert (tmp_path / "dec").read_bytes() == data

"""JSON-lines oracle over the official Kaspa Python SDK (kaspa==2.1.0).

Reads one JSON request per line on stdin and writes one JSON response per line on stdout, so
test/kaspa/differential.test.ts can compare p2pComm's TypeScript library with an
implementation no one here wrote. Requests: {"id", "op", ...}; responses: {"id", "ok": true,
...} or {"id", "ok": false, "error": "..."}. Amounts travel as decimal strings (u64 > 2^53).
"""
import json
import sys

import kaspa  # fails loudly when the SDK is missing: the differential test must not skip

SIGHASH = {
    1: kaspa.SighashType.All,
    2: getattr(kaspa.SighashType, "None"),  # "None" is a Python keyword
    4: kaspa.SighashType.Single,
    0x81: kaspa.SighashType.AllAnyOneCanPay,
    0x82: kaspa.SighashType.NoneAnyOneCanPay,
    0x84: kaspa.SighashType.SingleAnyOneCanPay,
}


def build_tx(t):
    """A kaspa.Transaction from the TypeScript-side JSON shape, UTXO entries attached."""
    inputs = []
    for i, inp in enumerate(t["inputs"]):
        spent = t["spent"][i]
        utxo = {
            "address": None,
            "outpoint": {"transactionId": inp["txid"], "index": inp["index"]},
            "amount": int(spent["amount"]),
            "scriptPublicKey": {"version": spent["spkVersion"], "script": spent["script"]},
            "blockDaaScore": 0,
            "isCoinbase": False,
            "covenantId": None,
        }
        inputs.append(
            {
                "previousOutpoint": {"transactionId": inp["txid"], "index": inp["index"]},
                "signatureScript": inp["signatureScript"],
                "sequence": int(inp["sequence"]),
                "sigOpCount": inp["sigOpCount"],
                "computeBudget": inp["computeBudget"],
                "utxo": utxo,
            }
        )
    outputs = [
        {
            "value": int(o["value"]),
            "scriptPublicKey": {"version": o["spkVersion"], "script": o["script"]},
            "covenant": None,
        }
        for o in t["outputs"]
    ]
    return kaspa.Transaction.from_dict(
        {
            "id": "00" * 32,
            "version": t["version"],
            "inputs": inputs,
            "outputs": outputs,
            "lockTime": int(t["lockTime"]),
            "subnetworkId": t["subnetworkId"],
            "gas": int(t["gas"]),
            "payload": t["payload"],
            "mass": int(t["storageMass"]),
        }
    )


def handle(req):
    op = req["op"]
    if op == "version":
        return {"sdk": "kaspa 2.1.0"}
    if op == "tx":
        tx = build_tx(req["tx"])
        out = {"txId": tx.finalize().to_hex()}
        out["sighashes"] = []
        for i in range(len(req["tx"]["inputs"])):
            for ht in req["hashTypes"]:
                h = kaspa.compute_sighash(tx, i, SIGHASH[ht])
                e = kaspa.compute_sighash(tx, i, SIGHASH[ht], True)
                out["sighashes"].append({"input": i, "hashType": ht, "schnorr": h.to_hex(), "ecdsa": e.to_hex()})
        ins = [int(s["amount"]) for s in req["tx"]["spent"]]
        outs = [int(o["value"]) for o in req["tx"]["outputs"]]
        storage = kaspa.calculate_storage_mass("mainnet", ins, outs) if outs and ins else None
        out["storageMass"] = None if storage is None else str(storage)
        try:
            out["sdkMass"] = str(kaspa.calculate_transaction_mass("mainnet", tx))
        except Exception as exc:  # the SDK refuses some shapes (e.g. no outputs); report, do not guess
            out["sdkMass"] = None
            out["sdkMassError"] = str(exc)
        return out
    if op == "sign":
        tx = build_tx(req["tx"])
        keys = [kaspa.PrivateKey(k) for k in req["keys"]]
        signed = kaspa.sign_transaction(tx, keys, True)
        return {"signatureScripts": [i.signature_script_as_hex for i in signed.inputs]}
    if op == "address":
        a = kaspa.Address(req["text"])
        return {"prefix": a.prefix, "version": str(a.version), "payload": a.payload}
    if op == "validate":
        return {"valid": bool(kaspa.Address.validate(req["text"]))}
    if op == "spkToAddress":
        spk = kaspa.ScriptPublicKey(0, req["script"])
        try:
            return {"address": kaspa.address_from_script_public_key(spk, req["network"]).to_string()}
        except Exception:
            return {"address": None}
    if op == "derive":
        seed = kaspa.Mnemonic(req["phrase"]).to_seed(req.get("passphrase") or None)
        xprv = kaspa.XPrv(seed)
        account = xprv.derive_path(f"m/44'/111111'/{req['account']}'")
        res = {
            "seed": seed,
            "master": xprv.into_string("kprv"),
            "accountXpub": account.to_xpub().into_string("kpub"),
            "keys": [],
        }
        for change, index in req["paths"]:
            k = account.derive_path(f"m/{change}/{index}").to_private_key()
            res["keys"].append(
                {
                    "privateKey": k.to_string(),
                    "xOnly": k.to_public_key().to_x_only_public_key().to_string(),
                    "address": k.to_address(req["network"]).to_string(),
                }
            )
        return res
    raise ValueError(f"unknown op {op}")


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            res = {**handle(req), "id": req["id"], "ok": True}
        except Exception as exc:  # report every SDK failure to the test instead of dying
            res = {"id": req["id"], "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Conformance of a Kaspa node's wRPC JSON endpoint, driven by the official Kaspa Python SDK.

Usage: devnet_conformance.py <ws-url> --private-key <hex> [--network simnet] [--mine-first N]

The key must own mature coins on the node. The devnet prefunds it; on a fresh real
`kaspad --simnet`, pass `--mine-first 1100` so the script mines past the coinbase maturity
(1,000 DAA, FACTS §7.2) to the key's own address before the checks. The script connects with `kaspa.RpcClient` in JSON encoding, reads server
info and UTXOs, subscribes to UtxosChanged, builds and signs one transaction with the SDK's
Generator and one with create_transaction + sign_transaction, submits both, mines blocks over
RPC (getBlockTemplate / submitBlock, as a miner would on simnet) and waits until both are
notified. It prints one JSON object per check and exits non-zero on the first failure.
"""
import argparse
import asyncio
import json
import os
import sys

import kaspa

TIMEOUT_S = 30


COINBASE_MATURITY = 1000


def report(check, ok=True, **detail):
    print(json.dumps({"check": check, "ok": ok, **detail}), flush=True)
    if not ok:
        sys.exit(1)


async def mine(client, pay_address, blocks):
    """Mines over RPC like a simnet miner: template, then submit it unchanged (no PoW on simnet)."""
    for _ in range(blocks):
        template = await client.get_block_template({"payAddress": pay_address, "extraData": []})
        result = await client.submit_block({"block": template["block"], "allowNonDaaBlocks": False})
        if result["report"]["type"] != "success":
            report("submitBlock", False, result=result)


async def wait_for(queue, predicate, client, pay_address):
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while asyncio.get_running_loop().time() < deadline:
        try:
            event = await asyncio.wait_for(queue.get(), timeout=0.5)
        except asyncio.TimeoutError:
            await mine(client, pay_address, 1)
            continue
        if predicate(event):
            return event
    return None


def added_outpoints(event):
    data = event.get("data", event)
    return {(e["outpoint"]["transactionId"], e["outpoint"]["index"]) for e in data.get("added", [])}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--private-key", required=True)
    parser.add_argument("--network", default="simnet")
    parser.add_argument("--mine-first", type=int, default=0)
    args = parser.parse_args()

    client = kaspa.RpcClient(url=args.url, encoding="json", network_id=args.network)
    await client.connect()
    report("connect", client.is_connected, url=args.url)

    info = await client.get_server_info()
    report("getServerInfo", info["networkId"] == args.network and info["hasUtxoIndex"] is True, info=info)
    dag = await client.get_block_dag_info()
    report("getBlockDagInfo", dag["network"] == args.network and len(dag["sink"]) == 64, sink=dag["sink"])

    key = kaspa.PrivateKey(args.private_key)
    address = key.to_address(args.network).to_string()
    recipient = kaspa.PrivateKey("11" * 32).to_address(args.network).to_string()
    if args.mine_first > 0:
        await mine(client, address, args.mine_first)
        report("mineFirst", True, blocks=args.mine_first)

    loop = asyncio.get_running_loop()
    events = asyncio.Queue()
    client.add_event_listener("utxos-changed", lambda event: loop.call_soon_threadsafe(events.put_nowait, event))
    await client.subscribe_utxos_changed([address, recipient])
    report("subscribeUtxosChanged", True, addresses=[address, recipient])

    utxos = await client.get_utxos_by_addresses({"addresses": [address]})
    # A node lists immature coinbase coins too; only coins past the maturity of 1,000 DAA
    # (FACTS §7) may be spent.
    virtual = (await client.get_block_dag_info())["virtualDaaScore"]
    entries = [
        e
        for e in utxos["entries"]
        if not e["utxoEntry"]["isCoinbase"] or e["utxoEntry"]["blockDaaScore"] + COINBASE_MATURITY <= virtual
    ]
    report("getUtxosByAddresses", len(entries) > 0, count=len(utxos["entries"]), mature=len(entries))

    # 1. The SDK's Generator: coin selection, fees, change, signing.
    generator = kaspa.Generator(
        network_id=args.network,
        entries=entries,
        change_address=address,
        outputs=[kaspa.PaymentOutput(recipient, 50_000_000)],
        priority_fee=0,
    )
    generated = []
    for pending in generator:
        pending.sign([key])
        generated.append(await pending.submit(client))
    report("generator.submit", len(generated) == 1, transactionIds=generated)
    event = await wait_for(events, lambda e: any(t == generated[-1] for t, _ in added_outpoints(e)), client, address)
    report("utxosChanged(generator tx)", event is not None)

    # 2. create_transaction + sign_transaction + submit_transaction with a payload.
    utxos = await client.get_utxos_by_addresses({"addresses": [address]})
    mature = [e for e in utxos["entries"] if not e["utxoEntry"]["isCoinbase"]]
    mature.sort(key=lambda e: e["utxoEntry"]["amount"], reverse=True)
    # create_transaction leaves change and fee to the caller: pay the remainder back minus a fee
    # well above the minimum relay fee (100 sompi/gram of max(compute, 2 x bytes)).
    total = mature[0]["utxoEntry"]["amount"]
    tx = kaspa.create_transaction(
        mature[:1],
        [kaspa.PaymentOutput(recipient, 30_000_000), kaspa.PaymentOutput(address, total - 30_000_000 - 1_000_000)],
        0,
        b"p2pcomm conformance".hex(),
        1,
    )
    kaspa.update_transaction_mass(args.network, tx)
    signed = kaspa.sign_transaction(tx, [key], True)
    submitted = await client.submit_transaction({"transaction": signed, "allowOrphan": False})
    txid = submitted["transactionId"]
    report("submitTransaction", len(txid) == 64, transactionId=txid)
    event = await wait_for(events, lambda e: any(t == txid for t, _ in added_outpoints(e)), client, address)
    report("utxosChanged(create_transaction tx)", event is not None)

    # 3. A double spend of the same coin is refused with the node's text.
    try:
        await client.submit_transaction({"transaction": signed, "allowOrphan": False})
        report("resubmit rejected", False)
    except Exception as e:  # noqa: BLE001 - the SDK raises a plain Exception carrying the RPC text
        report("resubmit rejected", "Rejected transaction" in str(e) or "already" in str(e), error=str(e))

    balance = await client.get_balance_by_address({"address": recipient})
    report("getBalanceByAddress", balance["balance"] >= 80_000_000, balance=balance["balance"])
    await client.unsubscribe_utxos_changed([address, recipient])
    await client.disconnect()
    report("done", True)


if __name__ == "__main__":
    asyncio.run(main())
    # The SDK's runtime threads can outlive the interpreter and abort at exit; the verdict is in.
    sys.stdout.flush()
    os._exit(0)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type os from 'node:os';
import { test } from 'node:test';
import { cpuUsagePercent } from './cpu.ts';
import { parseDfOutput, selectDiskMounts } from './disks.ts';
import { parseNvidiaSmi } from './gpus.ts';
import { networkInterfaceFacts } from './network.ts';
import { parseOsRelease } from './os-info.ts';

const testdata = (name: string) => readFile(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

function cpu(user: number, sys: number, idle: number): os.CpuInfo {
  return { model: 'x', speed: 1, times: { user, nice: 0, sys, idle, irq: 0 } };
}

test('cpu usage is the busy share of the time between two samples, over all cores', () => {
  const before = [cpu(100, 100, 1000), cpu(100, 100, 1000)];
  // core 0: 300 busy of 400; core 1: 100 busy of 400 → 400 of 800
  const after = [cpu(300, 200, 1100), cpu(150, 150, 1300)];
  assert.equal(cpuUsagePercent(before, after), 50);
  assert.equal(cpuUsagePercent(before, before), 0);
});

test('nvidia-smi csv gives one gpu per line; N/A fields are left out and memory is converted from MiB', async () => {
  const gpus = parseNvidiaSmi(await testdata('nvidia-smi.csv'));
  assert.deepEqual(gpus, [
    { name: 'NVIDIA GeForce RTX 3080', utilization_percent: 37, memory_total_bytes: 10240 * 1048576, memory_used_bytes: 1523 * 1048576, temperature_c: 61 },
    { name: 'Tesla T4', memory_total_bytes: 15360 * 1048576, memory_used_bytes: 0, temperature_c: 34 },
    { name: 'NVIDIA RTX A6000, Ada', utilization_percent: 5, memory_total_bytes: 49140 * 1048576, memory_used_bytes: 20000 * 1048576 },
  ]);
  assert.deepEqual(parseNvidiaSmi('No devices were found\n'), []);
});

test('disks from /proc mounts are real file systems, each device once, with escaped paths decoded', async () => {
  assert.deepEqual(selectDiskMounts(await testdata('proc-mounts.txt')), [
    { mount: '/', fs: 'ext4' },
    { mount: '/boot/efi', fs: 'vfat' },
    { mount: '/mnt/my data', fs: 'xfs' },
    { mount: '/srv/share', fs: 'nfs4' },
  ]);
});

test('an overlay root (a container) is still reported as the root disk', () => {
  assert.deepEqual(selectDiskMounts('overlay / overlay rw 0 0\nproc /proc proc rw 0 0\n'), [{ mount: '/', fs: 'overlay' }]);
});

test('df -P -k lines give sizes in bytes and mount points with spaces', async () => {
  const disks = parseDfOutput(await testdata('df-darwin.txt'));
  assert.equal(disks.length, 4);
  assert.deepEqual(disks[0], { mount: '/', total_bytes: 482797652 * 1024, used_bytes: 10234868 * 1024, free_bytes: 250012345 * 1024 });
  assert.equal(disks[3].mount, '/Volumes/My Backup');
});

test('os-release NAME and VERSION_ID are read with or without quotes', () => {
  assert.deepEqual(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'), { name: 'Debian GNU/Linux', version: '12' });
  assert.deepEqual(parseOsRelease("NAME=Alpine\nVERSION_ID='3.20.1'\n"), { name: 'Alpine', version: '3.20.1' });
});

test('network interfaces list addresses in CIDR form and leave loopback out', () => {
  const base = { netmask: '', mac: '02:00:00:00:00:01', scopeid: 0 };
  const facts = networkInterfaceFacts({
    lo: [{ ...base, address: '127.0.0.1', family: 'IPv4', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { ...base, address: '10.0.0.5', family: 'IPv4', internal: false, cidr: '10.0.0.5/24' },
      { ...base, address: 'fe80::1', family: 'IPv6', internal: false, cidr: 'fe80::1/64' },
    ],
  });
  assert.deepEqual(facts, [{ name: 'eth0', mac: '02:00:00:00:00:01', addresses: ['10.0.0.5/24', 'fe80::1/64'] }]);
});

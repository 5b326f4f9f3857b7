#!/bin/sh
# Print a Redis ACL file that confines each host's worker to its own keys.
#
#   contrib/redis/acl.sh CONTROLLER_PASSWORD web1:PASSWORD web2:PASSWORD ... > /etc/redis/users.acl
#
# A host's user may touch only celeryroot.host.NAME and celeryroot.host.NAME/*
# (its queue, kombu's unacked bookkeeping, its heartbeat), its queue's binding
# keys, may only *read* run leases (celeryroot.lease.*, whether the run that
# sent a task is still on) and only *write* to reply queues (celeryroot.reply.*,
# LPUSH and the EXPIRE that makes them lapse): it cannot
# read another host's tasks, which carry rendered templates and variables,
# nor any run's results. Pub/sub is closed (workers run without gossip,
# events and remote control). Point each worker at
# redis://NAME:PASSWORD@redis:6379/0 and the controller at
# redis://controller:CONTROLLER_PASSWORD@redis:6379/0.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 CONTROLLER_PASSWORD [HOST:PASSWORD ...]" >&2; exit 2; }
echo "user default off"
echo "user controller on >$1 ~* &* +@all -@dangerous +info"
shift
for pair in "$@"; do
    host=${pair%%:*}
    password=${pair#*:}
    case $host in *[!A-Za-z0-9._-]*|'') echo "bad host name: $host" >&2; exit 2;; esac
    echo "user $host on >$password resetkeys resetchannels" \
        "~celeryroot.host.$host ~celeryroot.host.$host/*" \
        "~_kombu.binding.celeryroot.host.$host ~_kombu.binding_permanent.celeryroot.host.$host" \
        "%R~celeryroot.lease.* %W~celeryroot.reply.*" \
        "-@all +@read +@write +@list +@hash +@sortedset +@set +@string +@keyspace +@connection" \
        "+@transaction +@scripting -@dangerous"
done

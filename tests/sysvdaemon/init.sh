#!/bin/sh
### BEGIN INIT INFO
# Provides:          crtestd
# Required-Start:    $remote_fs
# Required-Stop:     $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: celeryroot's test daemon
### END INIT INFO
# The tests install this script under other names: NAME (and Provides) are
# rewritten; /etc/default/$NAME sets PORT and where DAEMON is.

NAME=crtestd
DAEMON=/usr/lib/crtestd/crtestd.py
PIDFILE=/run/$NAME.pid
PORT=8765
[ -r /etc/default/$NAME ] && . /etc/default/$NAME

start() {
    start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile "$PIDFILE" \
        --startas "$DAEMON" -- --port "$PORT"
}

stop() {
    start-stop-daemon --stop --quiet --oknodo --pidfile "$PIDFILE" --retry TERM/5/KILL/2 --remove-pidfile
}

case "$1" in
    start) start ;;
    stop) stop ;;
    restart|force-reload) stop; start ;;
    reload) start-stop-daemon --stop --signal HUP --quiet --pidfile "$PIDFILE" ;;
    # It says so, as LSB scripts do: service --status-all takes a silent status for "not running".
    status) start-stop-daemon --status --pidfile "$PIDFILE" && echo "$NAME is running" ;;
    *) echo "Usage: /etc/init.d/$NAME {start|stop|restart|reload|force-reload|status}" >&2; exit 3 ;;
esac

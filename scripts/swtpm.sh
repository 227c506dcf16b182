# Sourced by tests and benchmarks that need a swtpm process:
#   . scripts/swtpm.sh; start_swtpm STATE_DIR   # sets swtpm_port, swtpm_pid
#   ...; stop_swtpm
# swtpm listens on 127.0.0.1:$swtpm_port (TPM) and $swtpm_port+1 (control).

start_swtpm() {
  local dir=$1
  # Two free consecutive ports: the TPM's and its control channel.
  swtpm_port=$(python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000, 2)
    socks = [socket.socket(), socket.socket()]
    try:
        socks[0].bind(("127.0.0.1", p)); socks[1].bind(("127.0.0.1", p + 1))
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
')
  swtpm socket --tpm2 --server type=tcp,port="$swtpm_port",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((swtpm_port + 1)),bindaddr=127.0.0.1 --tpmstate dir="$dir" \
    --flags not-need-init,startup-clear >"$dir/swtpm.log" 2>&1 &
  swtpm_pid=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$swtpm_port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "swtpm did not start: $(cat "$dir/swtpm.log")" >&2
  return 1
}

stop_swtpm() {
  [ -n "${swtpm_pid:-}" ] && kill "$swtpm_pid" 2>/dev/null && wait "$swtpm_pid" 2>/dev/null
  swtpm_pid=
}

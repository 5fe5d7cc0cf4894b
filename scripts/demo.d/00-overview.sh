# Prints what relaygate has built so far and what is not there yet.
set -euo pipefail
echo "relaygate demo"
echo "=============="
for prog in relaygate-milter relaygate-policy relaygate-admin relaygate-watch; do
  if [ -x "$RELAYGATE_BUILD/${prog#relaygate-}/$prog" ]; then
    echo "  $prog: built"
  else
    echo "  $prog: not there yet"
  fi
done

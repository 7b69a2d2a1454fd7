#!/usr/bin/env bash
# A guided run's caller written as a shell script: it reads the steps the run
# hands out (`osop step --json`), carries each out (here: decides its outputs)
# and reports it (`osop log`), until the run ends.  Usage: guided_agent.sh WF
set -u
wf="$1"
ready() {  # "RUN NODE NODE ..." from a guided view on stdin
  python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["run_id"], *[s["node_id"] for s in v["ready"]])'
}
view=$(osop run "$wf" --guided --agent shell-agent --json)
test $? -eq 3 || { echo "run did not pause for its caller" >&2; exit 1; }
set -- $(echo "$view" | ready)
run="$1"; shift
steps="$*"
while [ -n "$steps" ]; do
  for node in $steps; do
    case "$node" in
      pr_opened) osop log "$run" "$node" --status COMPLETED --output pr_url=https://git.example/pr/7 \
                   --output diff_content="+fix" --output branch_name=fix-7 --json >/dev/null ;;
      run_ci) osop log "$run" "$node" --status COMPLETED --output ci_result=pass \
                --output test_report="42/42 passed" --tool bash=3 --json >/dev/null ;;
      ai_code_review) osop log "$run" "$node" --status COMPLETED --output 'review_comments=[]' \
                        --output risk_level=low --tokens 1200/300 --model claude-sonnet-4-20250514 \
                        --json >/dev/null ;;
      human_review) osop log "$run" "$node" --status COMPLETED --output decision=approve \
                      --actor alice --decision approve --json >/dev/null ;;
      *) osop log "$run" "$node" --status COMPLETED --json >/dev/null ;;
    esac
    code=$?
    if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then echo "osop log $node: exit $code" >&2; exit 1; fi
  done
  set -- $(osop step "$run" --json | ready)
  shift
  steps="$*"
done
osop step "$run" --json

# The culprit check's answer from the records of one build with the culprit
# reverted (jq -s; the bug's titles as --args): bug_gone | bug_remains |
# revert_failed | not_tested.
def target: .kind == "run" and .outcome == "crashed" and
  (if .same_bug == null then (.title as $t | $ARGS.positional | index([$t])) != null else .same_bug end);
(map(select(.kind == "build")) | first) as $b
| if $b == null then "not_tested"
  elif ($b.ok | not) then (if $b.error == "revert_failed" then "revert_failed" else "not_tested" end)
  elif any(.[]; target) then "bug_remains"
  elif any(.[]; .kind == "run" and .outcome == "ok") then "bug_gone"
  else "not_tested" end

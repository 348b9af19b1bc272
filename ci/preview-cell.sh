#!/usr/bin/env bash
# One cell's preview in a merge request. Writes summary-$CELL.md (the job's
# artifact) and passes on `fleet preview`'s verdict: no changes (0) and
# changes without data loss (3) pass; data loss (4) fails unless approved;
# a failed cell or bad input fails.
#
# Data loss is approved by the merge request itself, explicitly and per
# environment (the label `fleet-data-loss::$CELL_ENV`, or the pipeline
# variable FLEET_APPROVE_DATA_LOSS): the parent pipeline's cells job decides
# it and writes FLEET_DATA_LOSS_APPROVED=$CELL_ENV into this job
# (ci/cells.sh says why there).
set -uo pipefail
: "${CELL_ENV:?}" "${CELL:?}"
summary="summary-${CELL}.md"
bash ci/fleet.sh preview --env "$CELL_ENV" --cells "$CELL" --summary-md "$summary"
code=$?
case $code in
  0) echo "cell $CELL: no changes" ;;
  3) echo "cell $CELL: changes without data loss" ;;
  4)
    if [[ "${FLEET_DATA_LOSS_APPROVED:-}" == "$CELL_ENV" ]]; then
      echo "cell $CELL: DATA LOSS, approved for $CELL_ENV by the merge request"
      code=0
    else
      echo "cell $CELL: DATA LOSS (see $summary). Approve it with the label fleet-data-loss::$CELL_ENV" >&2
    fi
    ;;
  *) echo "cell $CELL: preview failed (exit $code)" >&2 ;;
esac
if [[ $code == 3 ]]; then code=0; fi
exit "$code"

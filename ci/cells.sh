#!/usr/bin/env bash
# The parent pipeline's cells job: the environment's cells (cells.json) and
# the child pipelines with one job per cell (preview-cells.yml, up-cells.yml).
#
# The data-loss approval is decided here, not in the child's preview jobs:
# the merge request's labels (CI_MERGE_REQUEST_LABELS) are a variable of the
# merge request pipeline only. GitLab does not give them to a child pipeline
# (its source is parent_pipeline). A trigger job's variable copying them
# works on GitLab, but gitlab-ci-local (which the pipeline test runs) hands
# it to the child unexpanded, where the labels are unknown. So this job, which sees them in both, writes the approval into the
# generated preview jobs (FLEET_DATA_LOSS_APPROVED=<env>), and
# ci/preview-cell.sh reads only that. Like the labels themselves, it is fixed
# when the pipeline is created: a label added later needs a new pipeline.
#
# Approval is explicit and per environment: the label
# `fleet-data-loss::$FLEET_ENV`, or the pipeline variable
# FLEET_APPROVE_DATA_LOSS set to the environment's name.
set -euo pipefail
: "${FLEET_ENV:?}"
approve=()
if [[ "${FLEET_APPROVE_DATA_LOSS:-}" == "$FLEET_ENV" || ",${CI_MERGE_REQUEST_LABELS:-}," == *",fleet-data-loss::${FLEET_ENV},"* ]]; then
  echo "data loss in $FLEET_ENV approved by the merge request"
  approve=(--approve-data-loss)
fi
bash ci/fleet.sh cells --env "$FLEET_ENV" --json | tee cells.json
bash ci/fleet.sh cells --env "$FLEET_ENV" --gitlab-child preview "${approve[@]}" > preview-cells.yml
bash ci/fleet.sh cells --env "$FLEET_ENV" --gitlab-child up > up-cells.yml

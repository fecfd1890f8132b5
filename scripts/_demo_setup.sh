# Run by scripts/demo (and tests/demo): the demo registry. A hospital and an affiliated
# practice share it, each with its own (simulated) EHR; synthetic flags are dealt between
# them; one person of each kind gets an API token in $DEMO_VAR. Safe to run again: what is
# already there is left as it is.
set -euo pipefail
read -r -a valueloop <<< "${VALUELOOP_COMMAND:-.venv/bin/valueloop}"
var="${DEMO_VAR:-var}"
hospital_port="${EHR_PORT:-8100}"
practice_port="${PRACTICE_EHR_PORT:-8101}"
mkdir -p "$var"

"${valueloop[@]}" migrate
# The hospital is the default organization, renamed (an install with one organization never
# needs more); the practice is a second one.
"${valueloop[@]}" orgs rename main --name "Mercy General Hospital"
# (Listings are read whole before grep: grep -q stopping early would fail the pipeline.)
if ! grep -q '^riverside ' <<< "$("${valueloop[@]}" orgs list)"; then
    "${valueloop[@]}" orgs add riverside --name "Riverside Family Practice"
fi
# Two of every three synthetic flags are the hospital's, one the practice's; each starts improvement
# work on its commonest services (one change live for eight weeks, one proposed).
"${valueloop[@]}" seed --flags "${DEMO_FLAGS:-2000}" --org main --org main --org riverside --if-empty \
    --improvements

# Each EHR registered with ValueLoop (launches from unregistered EHRs are refused) and as a
# CDS Hooks client (JWTs signed by the key it publishes at /cds/jwks): its launches and
# cards make flags of its organization.
register_ehr() {
    local port="$1" org="$2" name="$3"
    "${valueloop[@]}" ehrs add "http://127.0.0.1:$port/fhir" --client-id valueloop-demo \
        --name "$name" --org "$org" \
        --frame-origin "http://127.0.0.1:$port" --frame-origin "http://localhost:$port"
    "${valueloop[@]}" cds-clients add "http://127.0.0.1:$port/fhir" --org "$org" \
        --jwks-url "http://127.0.0.1:$port/cds/jwks" --name "$name"
}
register_ehr "$hospital_port" main "Mercy General Hospital EHR (simulated)"
register_ehr "$practice_port" riverside "Riverside Family Practice EHR (simulated)"

# People (the synthetic directory, seeded above, is at the system level: it sees both).
add_person() {
    local email="$1" name="$2" role="$3" org="${4:-}"
    if ! grep -qF " $email " <<< "$("${valueloop[@]}" staff list)"; then
        "${valueloop[@]}" staff add "$email" --name "$name" --role "$role" ${org:+--org "$org"}
    fi
}
add_person h.quinn@example.org "H. Quinn" analyst main
add_person n.abara@example.org "Dr. N. Abara" lead riverside
# The hospital EHR's single sign-on (see scripts/demo) signs in its practitioners
# prac-00001 to prac-00003; with two organizations nobody joins unannounced, so they are
# added here with the organization (and role) their "roles" claim gives.
add_person saoirse831.coldharbour792@example.org "Dr. Saoirse831 Coldharbour792" admin
add_person ilse517.dunmore789@example.org "Dr. Ilse517 Dunmore789" analyst main
add_person percival398.underhill817@example.org "Dr. Percival398 Underhill817" lead main

token_for() {
    local file="$1" email="$2"
    if [ ! -s "$var/$file" ]; then
        (umask 077 && "${valueloop[@]}" tokens create --staff "$email" | tail -n 1 > "$var/$file")
    fi
}
token_for demo-admin-token d.byrne@example.org
token_for demo-hospital-analyst-token h.quinn@example.org
token_for demo-practice-lead-token n.abara@example.org

"""The DAI paths tests look for in a simulator's request log (the client owns the real ones;
the tests spell them out so a change of the client's paths shows as a failing test)."""

from __future__ import annotations

#: E1 (POST: start), E3 (DELETE .../{id}: abort).
EXECUTIONS = "/execution_service/api/v1/executions"
#: Keycloak's client-credentials token endpoint of the ``eggplant`` realm.
TOKEN_PATH = "/auth/realms/eggplant/protocol/openid-connect/token"
#: E4: run records (the plugin's poll).
RUNS = "/ai/runs"
#: Agents: GET lists them; on a real DAI server a POST creates one.
AGENTS = "/ai/agents"

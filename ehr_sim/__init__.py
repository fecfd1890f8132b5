"""A simulated EHR for ValueLoop's demo and tests. NOT PART OF THE PRODUCT; never deploy it.

It plays the EHR side of SMART App Launch 2.x (authorization server, launch contexts,
clients) and a FHIR R4 read/search server over deterministic synthetic patients, with
switches for latency and faults. ValueLoop's own packages (``app``, ``smart``,
``fhir_client``) never import it; it plugs into the ``valueloop`` command as ``ehr-sim``.

Everything lives in process memory: one simulator process is one EHR.
"""

"""Quality assurance: measure the finished master against the spec; decide what to correct.

report = run_qa(mastered, 44100, spec, arrangement=arr, stems=stems, attempt=1)
# run_qa(..., advisory={"tempo"}) reports a check without failing on it (a pulse-free piece)
if not report.passed:
    fix = corrective(report, mix_params, master_params)   # fix.actions == [] -> cannot be fixed here
"""

from pipeline.qa.correct import Correction, corrective
from pipeline.qa.report import Check, QAReport
from pipeline.qa.run import run_qa

__all__ = ["Check", "Correction", "QAReport", "corrective", "run_qa"]

"""Clinical vocabulary of the synthetic EHR: comorbidity clusters with ICD-9 / ICD-10 codes, titles and drugs.

Codes and titles follow the public ICD-9-CM, ICD-10-CM/PCS and ATC classifications so prompts read like real
ones; NDC numbers are made up (see :func:`synthetic_ndc`) and are labelled synthetic in the mapping file.
``risk`` holds each cluster's contribution to mortality, length of stay and readmission: the synthetic outcomes
depend on these codes and on age, so there is a signal for models to find.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

# (ICD-9 code, ICD-10 code, long title used for both; ICD-10 title differs slightly in reality, kept short here)
Code = tuple[str, str, str]
# (drug name, ATC-3 code, ATC-3 class name)
Drug = tuple[str, str, str]


@dataclass(frozen=True)
class Cluster:
    """A comorbidity cluster: what is coded, done and given when a patient has it, and what it does to outcomes."""

    name: str
    diagnoses: tuple[Code, ...]
    procedures: tuple[Code, ...]
    drugs: tuple[Drug, ...]
    mortality_risk: float
    los_risk: float
    readmission_risk: float
    age_affinity: float  # > 0: more common in older patients


CLUSTERS: tuple[Cluster, ...] = (
    Cluster(
        "cardiac",
        (
            ("4280", "I509", "Congestive heart failure, unspecified"),
            ("41401", "I2510", "Coronary atherosclerosis of native coronary artery"),
            ("42731", "I4891", "Atrial fibrillation"),
            ("41071", "I214", "Subendocardial infarction, initial episode of care"),
        ),
        (
            ("3722", "4A023N7", "Left heart cardiac catheterization"),
            ("8856", "B2111ZZ", "Coronary arteriography using two catheters"),
            ("3615", "021009W", "Single internal mammary-coronary artery bypass"),
        ),
        (
            ("Metoprolol Tartrate", "C07A", "BETA BLOCKING AGENTS"),
            ("Furosemide", "C03C", "HIGH-CEILING DIURETICS"),
            ("Aspirin", "B01A", "ANTITHROMBOTIC AGENTS"),
            ("Atorvastatin", "C10A", "LIPID MODIFYING AGENTS, PLAIN"),
            ("Lisinopril", "C09A", "ACE INHIBITORS, PLAIN"),
        ),
        mortality_risk=0.9,
        los_risk=0.25,
        readmission_risk=0.9,
        age_affinity=1.0,
    ),
    Cluster(
        "respiratory",
        (
            ("486", "J189", "Pneumonia, organism unspecified"),
            ("51881", "J9601", "Acute respiratory failure"),
            ("49121", "J441", "Obstructive chronic bronchitis with (acute) exacerbation"),
            ("5070", "J690", "Pneumonitis due to inhalation of food or vomitus"),
        ),
        (
            ("9604", "0BH17EZ", "Insertion of endotracheal tube"),
            (
                "9671",
                "5A1935Z",
                "Continuous invasive mechanical ventilation for less than 96 consecutive hours",
            ),
            (
                "9672",
                "5A1955Z",
                "Continuous invasive mechanical ventilation for 96 consecutive hours or more",
            ),
        ),
        (
            ("Albuterol", "R03A", "ADRENERGICS, INHALANTS"),
            ("Ipratropium Bromide", "R03B", "OTHER DRUGS FOR OBSTRUCTIVE AIRWAY DISEASES, INHALANTS"),
            ("Prednisone", "H02A", "CORTICOSTEROIDS FOR SYSTEMIC USE, PLAIN"),
            ("Levofloxacin", "J01M", "QUINOLONE ANTIBACTERIALS"),
        ),
        mortality_risk=1.4,
        los_risk=0.6,
        readmission_risk=0.5,
        age_affinity=0.6,
    ),
    Cluster(
        "sepsis",
        (
            ("0389", "A419", "Unspecified septicemia"),
            ("99592", "R6520", "Severe sepsis"),
            ("78552", "R6521", "Septic shock"),
            ("5849", "N179", "Acute kidney failure, unspecified"),
        ),
        (
            ("3893", "02HV33Z", "Venous catheterization, not elsewhere classified"),
            ("3891", "02H633Z", "Arterial catheterization"),
            ("9915", "3E0436Z", "Parenteral infusion of concentrated nutritional substances"),
        ),
        (
            ("Vancomycin", "J01X", "OTHER ANTIBACTERIALS"),
            ("Piperacillin-Tazobactam", "J01C", "BETA-LACTAM ANTIBACTERIALS, PENICILLINS"),
            ("Norepinephrine", "C01C", "CARDIAC STIMULANTS EXCL. CARDIAC GLYCOSIDES"),
            ("Meropenem", "J01D", "OTHER BETA-LACTAM ANTIBACTERIALS"),
        ),
        mortality_risk=2.2,
        los_risk=0.9,
        readmission_risk=0.4,
        age_affinity=0.3,
    ),
    Cluster(
        "renal_diabetes",
        (
            (
                "25000",
                "E119",
                "Diabetes mellitus without mention of complication, type II or unspecified type",
            ),
            ("5859", "N189", "Chronic kidney disease, unspecified"),
            ("40391", "I120", "Hypertensive chronic kidney disease with end stage renal disease"),
            ("2724", "E785", "Other and unspecified hyperlipidemia"),
        ),
        (
            ("3995", "5A1D70Z", "Hemodialysis"),
            ("3927", "031C0ZF", "Arteriovenostomy for renal dialysis"),
            ("5498", "3E1M39Z", "Peritoneal dialysis"),
        ),
        (
            ("Insulin", "A10A", "INSULINS AND ANALOGUES"),
            ("Metformin", "A10B", "BLOOD GLUCOSE LOWERING DRUGS, EXCL. INSULINS"),
            ("Sevelamer", "V03A", "ALL OTHER THERAPEUTIC PRODUCTS"),
            ("Calcitriol", "A11C", "VITAMIN A AND D, INCL. COMBINATIONS OF THE TWO"),
        ),
        mortality_risk=0.5,
        los_risk=0.3,
        readmission_risk=1.3,
        age_affinity=0.8,
    ),
    Cluster(
        "liver_gi",
        (
            ("5715", "K746", "Cirrhosis of liver without mention of alcohol"),
            ("5789", "K922", "Hemorrhage of gastrointestinal tract, unspecified"),
            ("5770", "K859", "Acute pancreatitis"),
            ("5712", "K7030", "Alcoholic cirrhosis of liver"),
        ),
        (
            ("4513", "0DJ08ZZ", "Other endoscopy of small intestine"),
            ("5491", "0W9G3ZZ", "Percutaneous abdominal drainage"),
            ("4443", "0W3P8ZZ", "Endoscopic control of gastric or duodenal bleeding"),
        ),
        (
            ("Pantoprazole", "A02B", "DRUGS FOR PEPTIC ULCER AND GASTRO-OESOPHAGEAL REFLUX DISEASE"),
            ("Lactulose", "A06A", "DRUGS FOR CONSTIPATION"),
            ("Octreotide", "H01C", "HYPOTHALAMIC HORMONES"),
            ("Ondansetron", "A04A", "ANTIEMETICS AND ANTINAUSEANTS"),
        ),
        mortality_risk=1.2,
        los_risk=0.5,
        readmission_risk=1.1,
        age_affinity=0.0,
    ),
    Cluster(
        "neuro",
        (
            ("431", "I619", "Intracerebral hemorrhage"),
            ("43491", "I639", "Cerebral artery occlusion, unspecified with cerebral infarction"),
            ("34590", "G40909", "Epilepsy, unspecified, without mention of intractable epilepsy"),
        ),
        (
            ("0159", "00B00ZZ", "Other excision or destruction of lesion or tissue of brain"),
            ("8703", "B020ZZZ", "Computerized axial tomography of head"),
            ("0331", "009U3ZX", "Spinal tap"),
        ),
        (
            ("Levetiracetam", "N03A", "ANTIEPILEPTICS"),
            ("Nimodipine", "C08C", "SELECTIVE CALCIUM CHANNEL BLOCKERS WITH MAINLY VASCULAR EFFECTS"),
            ("Labetalol", "C07A", "BETA BLOCKING AGENTS"),
        ),
        mortality_risk=1.8,
        los_risk=0.7,
        readmission_risk=0.2,
        age_affinity=0.5,
    ),
    Cluster(
        "oncology",
        (
            ("1629", "C3490", "Malignant neoplasm of bronchus and lung, unspecified"),
            ("1977", "C787", "Secondary malignant neoplasm of liver"),
            ("1983", "C7931", "Secondary malignant neoplasm of brain and spinal cord"),
            ("28522", "D630", "Anemia in neoplastic disease"),
        ),
        (
            ("9925", "3E04305", "Injection or infusion of cancer chemotherapeutic substance"),
            ("3328", "0BBK0ZX", "Open biopsy of lung"),
            ("4131", "07DR3ZX", "Biopsy of bone marrow"),
        ),
        (
            ("Dexamethasone", "H02A", "CORTICOSTEROIDS FOR SYSTEMIC USE, PLAIN"),
            ("Morphine Sulfate", "N02A", "OPIOIDS"),
            ("Filgrastim", "L03A", "IMMUNOSTIMULANTS"),
            ("Prochlorperazine", "N05A", "ANTIPSYCHOTICS"),
        ),
        mortality_risk=1.7,
        los_risk=0.6,
        readmission_risk=1.5,
        age_affinity=0.6,
    ),
    Cluster(
        "trauma",
        (
            ("82021", "S72141A", "Closed fracture of intertrochanteric section of neck of femur"),
            ("80540", "S32009A", "Closed fracture of lumbar vertebra without mention of spinal cord injury"),
            ("85221", "S065X0A", "Subdural hemorrhage following injury without open intracranial wound"),
        ),
        (
            ("7935", "0QS634Z", "Open reduction of fracture with internal fixation, femur"),
            ("8162", "0SG00AJ", "Fusion or refusion of 2-3 vertebrae"),
            ("0131", "00C40ZZ", "Incision of cerebral meninges"),
        ),
        (
            ("Oxycodone", "N02A", "OPIOIDS"),
            ("Enoxaparin", "B01A", "ANTITHROMBOTIC AGENTS"),
            ("Docusate Sodium", "A06A", "DRUGS FOR CONSTIPATION"),
        ),
        mortality_risk=0.6,
        los_risk=0.8,
        readmission_risk=-0.3,
        age_affinity=-0.4,
    ),
)

BACKGROUND_DIAGNOSES: tuple[Code, ...] = (
    ("4019", "I10", "Unspecified essential hypertension"),
    ("53081", "K219", "Esophageal reflux"),
    ("3051", "F17210", "Tobacco use disorder"),
    ("V5861", "Z7901", "Long-term (current) use of anticoagulants"),
    ("2449", "E039", "Unspecified acquired hypothyroidism"),
    ("311", "F329", "Depressive disorder, not elsewhere classified"),
)
BACKGROUND_PROCEDURES: tuple[Code, ...] = (
    ("9904", "30233N1", "Transfusion of packed cells"),
    ("3893", "02HV33Z", "Venous catheterization, not elsewhere classified"),
)
BACKGROUND_DRUGS: tuple[Drug, ...] = (
    ("Heparin", "B01A", "ANTITHROMBOTIC AGENTS"),
    ("Potassium Chloride", "A12B", "POTASSIUM"),
    ("Acetaminophen", "N02B", "OTHER ANALGESICS AND ANTIPYRETICS"),
    ("Sodium Chloride 0.9%  Flush", "B05X", "I.V. SOLUTION ADDITIVES"),
    ("Docusate Sodium", "A06A", "DRUGS FOR CONSTIPATION"),
    ("Senna", "A06A", "DRUGS FOR CONSTIPATION"),
)


def synthetic_ndc(drug_name: str) -> str:
    """A stable, made-up 11-digit NDC for a drug name (not a real product code)."""
    return str(zlib.crc32(drug_name.encode()) % 10**10).zfill(11)


def all_diagnoses() -> list[Code]:
    return [code for cluster in CLUSTERS for code in cluster.diagnoses] + list(BACKGROUND_DIAGNOSES)


def all_procedures() -> list[Code]:
    return [code for cluster in CLUSTERS for code in cluster.procedures] + list(BACKGROUND_PROCEDURES)


def all_drugs() -> list[Drug]:
    return [drug for cluster in CLUSTERS for drug in cluster.drugs] + list(BACKGROUND_DRUGS)

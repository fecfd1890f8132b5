"""Code systems and code tables for the synthetic patients.

Every ``display`` here is our own plain-language label: CPT descriptors and SNOMED CT
descriptions are licensed, so none is copied (see ``shared/clinical/low-value-services.md``).
RxNorm names are public and are used as RxNorm spells them. Only codes we are sure of are
listed; where we were not (LOINC for vitamin D, T3, PTH and homocysteine, for example) the
results carry a local lab code instead, as many real EHRs do.

ICD-10-CM codes are FY2022 or later: low back pain is ``M54.50`` (not ``M54.5``) and chronic
kidney disease stage 3 is ``N18.30`` (``N18.3`` was split in FY2021).
"""

from __future__ import annotations

from dataclasses import dataclass

CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
NUCC = "http://nucc.org/provider-taxonomy"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
PRACTITIONER_ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
MEDICATION_REQUEST_CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"

# Identifier and local code systems of the simulated health system. ``example.org`` is
# reserved (RFC 2606), so these can never collide with a real organisation's systems.
_SIM = "https://ehr-sim.example.org"
MRN_SYSTEM = f"{_SIM}/sid/mrn"
STAFF_ID_SYSTEM = f"{_SIM}/sid/staff-id"
VISIT_NUMBER_SYSTEM = f"{_SIM}/sid/visit-number"
MEMBER_ID_SYSTEM = f"{_SIM}/sid/member-id"
ORGANIZATION_ID_SYSTEM = f"{_SIM}/sid/organization"
LOCAL_LAB = f"{_SIM}/CodeSystem/lab"


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class Diagnosis:
    """A diagnosis as the EHR codes it: ICD-10-CM always, SNOMED CT where we are sure."""

    icd10: Code
    snomed: Code | None = None


def _dx(icd10: str, label: str, snomed: str | None = None, snomed_label: str = "") -> Diagnosis:
    return Diagnosis(
        Code(ICD10CM, icd10, label),
        Code(SNOMED, snomed, snomed_label or label) if snomed else None,
    )


LOW_BACK_PAIN = _dx("M54.50", "Low back pain, unspecified", "279039007", "Low back pain")
URI = _dx("J06.9", "Acute upper respiratory infection", "54150009", "Upper respiratory infection")
ACUTE_BRONCHITIS = _dx("J20.9", "Acute bronchitis", "10509002")
MIGRAINE = _dx("G43.909", "Migraine, not intractable", "37796009", "Migraine")
SYNCOPE = _dx("R55", "Syncope and collapse", "271594007", "Fainting (syncope)")
HYPOTHYROIDISM = _dx("E03.9", "Hypothyroidism", "40930008")
CKD_STAGE_3 = _dx("N18.30", "Chronic kidney disease, stage 3", "433144002")
TYPE_2_DIABETES = _dx("E11.9", "Type 2 diabetes without complications", "44054006")
HYPERTENSION = _dx("I10", "Essential hypertension", "38341003", "High blood pressure")
CATARACT = _dx("H25.9", "Age-related cataract", "193570009", "Cataract")
INGUINAL_HERNIA = _dx("K40.90", "Inguinal hernia, one side", "396232000", "Inguinal hernia")
ACUTE_SINUSITIS = _dx("J01.90", "Acute sinusitis")
FEVER = _dx("R50.9", "Fever", "386661006")
BREAST_CANCER = _dx("C50.911", "Breast cancer, right breast", "254837009", "Breast cancer")
PROSTATE_CANCER = _dx("C61", "Prostate cancer", "399068003")
HYPERLIPIDEMIA = _dx("E78.5", "Hyperlipidaemia", "55822004")
OBESITY = _dx("E66.9", "Obesity", "414916001")
OSTEOPOROSIS = _dx("M81.0", "Age-related osteoporosis, no current fracture", "64859006")
ASTHMA = _dx("J45.909", "Asthma, uncomplicated", "195967001", "Asthma")
COPD = _dx("J44.9", "Chronic obstructive pulmonary disease", "13645005")
ATRIAL_FIBRILLATION = _dx("I48.91", "Atrial fibrillation", "49436004")
KNEE_OSTEOARTHRITIS = _dx(
    "M17.11", "Primary osteoarthritis, right knee", "239873007", "Osteoarthritis of knee"
)
STREP_PHARYNGITIS = _dx("J02.0", "Streptococcal pharyngitis", "43878008", "Strep throat")
ANKLE_SPRAIN = _dx("S93.401A", "Sprain of right ankle, initial encounter")
URINARY_TRACT_INFECTION = _dx("N39.0", "Urinary tract infection", "68566005")
HEAD_INJURY = _dx("S09.90XA", "Head injury, initial encounter")
PNEUMONIA = _dx("J18.9", "Pneumonia, organism not specified", "233604007", "Pneumonia")
HEART_FAILURE = _dx("I50.9", "Heart failure", "84114007")
INSOMNIA = _dx("G47.00", "Insomnia")
GENERAL_EXAM = _dx("Z00.00", "Adult general medical examination, normal findings")
PREOPERATIVE_EXAM = _dx("Z01.818", "Pre-procedural examination")


@dataclass(frozen=True)
class Orderable:
    """What a ServiceRequest orders: its codes, and the order's text as the EHR shows it.

    ``results`` are the lab results a completed order files (keys of :data:`RESULTS`).
    """

    category: str
    codes: tuple[Code, ...]
    text: str
    results: tuple[str, ...] = ()


LAB = "laboratory"
IMAGING = "imaging"
SURGERY = "surgery"
DIAGNOSTIC = "diagnostic"
REFERRAL = "referral"

# ServiceRequest.category: SNOMED CT where FHIR's examples have a code (labels are ours);
# referrals carry text only, as they often do.
SERVICE_CATEGORIES: dict[str, Code | None] = {
    LAB: Code(SNOMED, "108252007", "Laboratory procedure"),
    IMAGING: Code(SNOMED, "363679005", "Imaging"),
    SURGERY: Code(SNOMED, "387713003", "Surgical procedure"),
    DIAGNOSTIC: Code(SNOMED, "103693007", "Diagnostic procedure"),
    REFERRAL: None,
}


def _cpt(code: str, label: str) -> Code:
    return Code(CPT, code, label)


# Imaging
MRI_LUMBAR_SPINE = Orderable(
    IMAGING, (_cpt("72148", "MRI lumbar spine, no contrast"),), "MRI L-SPINE WO CONTRAST"
)
XRAY_LUMBAR_SPINE = Orderable(
    IMAGING, (_cpt("72100", "X-ray lumbar spine, 2-3 views"),), "XR LUMBAR SPINE 2-3 VIEWS"
)
CT_HEAD = Orderable(IMAGING, (_cpt("70450", "CT head, no contrast"),), "CT HEAD WO CONTRAST")
MRI_BRAIN = Orderable(IMAGING, (_cpt("70551", "MRI brain, no contrast"),), "MRI BRAIN WO CONTRAST")
CHEST_XRAY = Orderable(IMAGING, (_cpt("71046", "Chest X-ray, 2 views"),), "XR CHEST 2 VIEWS")
CT_SINUS = Orderable(
    IMAGING, (_cpt("70486", "CT face and sinuses, no contrast"),), "CT SINUS WO CONTRAST"
)
DXA_SCAN = Orderable(IMAGING, (_cpt("77080", "Bone density scan (DXA), hip and spine"),), "DXA")
CAROTID_DUPLEX = Orderable(
    IMAGING, (_cpt("93880", "Carotid duplex ultrasound, both sides"),), "US CAROTID DUPLEX BILAT"
)
XRAY_ANKLE = Orderable(IMAGING, (_cpt("73610", "X-ray ankle, 3 views"),), "XR ANKLE 3+ VIEWS RT")
XRAY_KNEE = Orderable(IMAGING, (_cpt("73560", "X-ray knee, 1-2 views"),), "XR KNEE 1-2 VIEWS RT")
ECHOCARDIOGRAM = Orderable(
    IMAGING, (_cpt("93306", "Echocardiogram, complete, with Doppler"),), "ECHO TTE COMPLETE"
)

# Laboratory
VITAMIN_D = Orderable(
    LAB, (_cpt("82306", "Vitamin D, 25-hydroxy"),), "VITAMIN D 25 HYDROXY", ("vitamin_d",)
)
PSA = Orderable(
    LAB,
    (_cpt("84153", "PSA, total"), Code(LOINC, "2857-1", "PSA, serum or plasma")),
    "PSA, TOTAL",
    ("psa",),
)
CBC = Orderable(
    LAB,
    (_cpt("85025", "Complete blood count with differential"),),
    "CBC WITH AUTO DIFF",
    ("hemoglobin", "white_cells", "platelets"),
)
BMP = Orderable(
    LAB,
    (_cpt("80048", "Basic metabolic panel"),),
    "BASIC METABOLIC PANEL",
    ("glucose", "sodium", "potassium", "urea_nitrogen", "creatinine"),
)
LIPID_PANEL = Orderable(
    LAB,
    (_cpt("80061", "Lipid panel"),),
    "LIPID PANEL",
    ("cholesterol", "triglycerides", "hdl", "ldl"),
)
HBA1C = Orderable(
    LAB,
    (_cpt("83036", "Haemoglobin A1c"), Code(LOINC, "4548-4", "Haemoglobin A1c in blood")),
    "HEMOGLOBIN A1C",
    ("hba1c",),
)
CREATININE = Orderable(
    LAB,
    (_cpt("82565", "Creatinine, blood"), Code(LOINC, "2160-0", "Creatinine, serum or plasma")),
    "CREATININE",
    ("creatinine",),
)
TSH = Orderable(
    LAB,
    (_cpt("84443", "Thyroid stimulating hormone"), Code(LOINC, "3016-3", "TSH, serum or plasma")),
    "TSH",
    ("tsh",),
)
T3_TOTAL = Orderable(LAB, (_cpt("84480", "T3 (triiodothyronine), total"),), "T3, TOTAL", ("t3",))
T3_FREE = Orderable(LAB, (_cpt("84481", "T3 (triiodothyronine), free"),), "T3, FREE", ("t3_free",))
PTH = Orderable(LAB, (_cpt("83970", "Parathyroid hormone"),), "PTH, INTACT", ("pth",))
HOMOCYSTEINE = Orderable(LAB, (_cpt("83090", "Homocysteine"),), "HOMOCYSTEINE", ("homocysteine",))
URINALYSIS = Orderable(LAB, (_cpt("81003", "Urinalysis, automated"),), "UA AUTOMATED W/O MICRO")
URINE_CULTURE = Orderable(LAB, (_cpt("87086", "Urine culture, colony count"),), "URINE CULTURE")
BNP = Orderable(LAB, (_cpt("83880", "B-type natriuretic peptide"),), "BNP", ("bnp",))
BLOOD_CULTURE = Orderable(LAB, (_cpt("87040", "Blood culture"),), "BLOOD CULTURE X2")
RAPID_STREP = Orderable(LAB, (_cpt("87880", "Rapid strep A antigen test"),), "RAPID STREP A")

# Procedures
ECG = Orderable(DIAGNOSTIC, (_cpt("93000", "Electrocardiogram, 12 lead"),), "ECG 12-LEAD")
CATARACT_SURGERY = Orderable(
    SURGERY,
    (
        _cpt("66984", "Cataract removal with lens implant"),
        Code(SNOMED, "54885007", "Cataract extraction"),
    ),
    "CATARACT EXTRACTION W/ IOL",
)
HERNIA_REPAIR = Orderable(
    SURGERY, (_cpt("49505", "Inguinal hernia repair, open"),), "INGUINAL HERNIA REPAIR"
)
# Uncoded orders: real order catalogues are full of these.
PHYSICAL_THERAPY_REFERRAL = Orderable(REFERRAL, (), "Ambulatory referral to Physical Therapy")


@dataclass(frozen=True)
class Result:
    """A lab or vital-sign result: its code, UCUM unit and a plausible range."""

    code: Code
    unit: str
    low: float
    high: float
    decimals: int = 0


RESULTS: dict[str, Result] = {
    "hemoglobin": Result(Code(LOINC, "718-7", "Haemoglobin"), "g/dL", 11.5, 16.5, 1),
    "white_cells": Result(Code(LOINC, "6690-2", "White cell count"), "10*3/uL", 3.8, 11.0, 1),
    "platelets": Result(Code(LOINC, "777-3", "Platelet count"), "10*3/uL", 150, 400),
    "glucose": Result(Code(LOINC, "2345-7", "Glucose, serum or plasma"), "mg/dL", 75, 160),
    "sodium": Result(Code(LOINC, "2951-2", "Sodium, serum or plasma"), "mmol/L", 134, 145),
    "potassium": Result(Code(LOINC, "2823-3", "Potassium, serum or plasma"), "mmol/L", 3.4, 5.2, 1),
    "urea_nitrogen": Result(Code(LOINC, "3094-0", "Urea nitrogen (BUN)"), "mg/dL", 7, 28),
    "creatinine": Result(Code(LOINC, "2160-0", "Creatinine"), "mg/dL", 0.6, 1.3, 2),
    "hba1c": Result(Code(LOINC, "4548-4", "Haemoglobin A1c"), "%", 5.2, 9.4, 1),
    "psa": Result(Code(LOINC, "2857-1", "PSA"), "ng/mL", 0.3, 6.5, 2),
    "tsh": Result(Code(LOINC, "3016-3", "TSH"), "m[IU]/L", 0.4, 6.0, 2),
    "cholesterol": Result(Code(LOINC, "2093-3", "Cholesterol, total"), "mg/dL", 140, 260),
    "triglycerides": Result(Code(LOINC, "2571-8", "Triglycerides"), "mg/dL", 60, 240),
    "hdl": Result(Code(LOINC, "2085-9", "HDL cholesterol"), "mg/dL", 32, 80),
    "ldl": Result(Code(LOINC, "18262-6", "LDL cholesterol, direct"), "mg/dL", 60, 180),
    "vitamin_d": Result(Code(LOCAL_LAB, "VITD25", "Vitamin D, 25-hydroxy"), "ng/mL", 14, 55),
    "t3": Result(Code(LOCAL_LAB, "T3TOT", "T3, total"), "ng/dL", 80, 180),
    "t3_free": Result(Code(LOCAL_LAB, "T3FREE", "T3, free"), "pg/mL", 2.3, 4.2, 1),
    "pth": Result(Code(LOCAL_LAB, "PTHI", "PTH, intact"), "pg/mL", 15, 110),
    "homocysteine": Result(Code(LOCAL_LAB, "HCY", "Homocysteine"), "umol/L", 5, 16, 1),
    "bnp": Result(Code(LOCAL_LAB, "BNP", "B-type natriuretic peptide"), "pg/mL", 120, 1400),
    # Vital signs
    "systolic": Result(Code(LOINC, "8480-6", "Systolic blood pressure"), "mm[Hg]", 104, 168),
    "diastolic": Result(Code(LOINC, "8462-4", "Diastolic blood pressure"), "mm[Hg]", 62, 98),
    "heart_rate": Result(Code(LOINC, "8867-4", "Heart rate"), "/min", 56, 104),
    "body_weight": Result(Code(LOINC, "29463-7", "Body weight"), "kg", 52, 118, 1),
    "body_temperature": Result(Code(LOINC, "8310-5", "Body temperature"), "Cel", 36.3, 37.6, 1),
    "respiratory_rate": Result(Code(LOINC, "9279-1", "Respiratory rate"), "/min", 12, 22),
}
BLOOD_PRESSURE_PANEL = Code(LOINC, "85354-9", "Blood pressure")
VITAL_SIGNS_CATEGORY = Code(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")
LABORATORY_CATEGORY = Code(OBSERVATION_CATEGORY, "laboratory", "Laboratory")


@dataclass(frozen=True)
class Drug:
    """A prescribable drug: RxNorm where it has one, the prescriber's text, and a sig."""

    rxnorm: Code | None
    text: str
    sig: str


def _rx(code: str, name: str) -> Code:
    return Code(RXNORM, code, name)


AMOXICILLIN_500 = Drug(
    _rx("308192", "amoxicillin 500 MG Oral Tablet"),
    "amoxicillin 500 mg tablet",
    "Take 1 tablet by mouth 3 times a day for 10 days",
)
AMOXICILLIN_250 = Drug(
    _rx("308182", "amoxicillin 250 MG Oral Capsule"),
    "amoxicillin 250 mg capsule",
    "Take 2 capsules by mouth 3 times a day for 7 days",
)
AZITHROMYCIN_250 = Drug(
    _rx("308460", "azithromycin 250 MG Oral Tablet"),
    "azithromycin 250 mg tablet",
    "Take 2 tablets on day 1, then 1 tablet daily on days 2 to 5",
)
Z_PAK = Drug(None, "Z-Pak (azithromycin 250 mg) 6 tablets", "Use as directed on the pack")
PENICILLIN_V = Drug(
    _rx("834061", "penicillin V potassium 250 MG Oral Tablet"),
    "penicillin VK 250 mg tablet",
    "Take 1 tablet by mouth 4 times a day for 10 days",
)
AMLODIPINE_5 = Drug(
    _rx("197361", "amlodipine 5 MG Oral Tablet"), "AMLODIPINE 5MG TAB", "Take 1 tablet daily"
)
LISINOPRIL_10 = Drug(
    _rx("314076", "lisinopril 10 MG Oral Tablet"), "lisinopril 10 mg tablet", "1 tab PO daily"
)
HYDROCHLOROTHIAZIDE_25 = Drug(
    _rx("310798", "hydrochlorothiazide 25 MG Oral Tablet"),
    "HCTZ 25 mg tablet",
    "Take 1 tablet by mouth every morning",
)
LOSARTAN_25 = Drug(
    _rx("979485", "losartan potassium 25 MG Oral Tablet"),
    "losartan 25 mg tablet",
    "Take 1 tablet daily",
)
METFORMIN_ER_500 = Drug(
    _rx("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"),
    "metFORMIN ER 500 mg 24 hr tablet",
    "Take 1 tablet by mouth daily with the evening meal",
)
SIMVASTATIN_20 = Drug(
    _rx("312961", "simvastatin 20 MG Oral Tablet"), "simvastatin 20 mg tablet", "1 tab PO nightly"
)
ATORVASTATIN_80 = Drug(
    _rx("259255", "atorvastatin 80 MG Oral Tablet"), "atorvastatin 80 mg tablet", "1 tab PO daily"
)
LEVOTHYROXINE_75 = Drug(
    _rx("966222", "levothyroxine sodium 0.075 MG Oral Tablet"),
    "levothyroxine 75 mcg tablet",
    "Take 1 tablet by mouth every morning before breakfast",
)
WARFARIN_5 = Drug(
    _rx("855332", "warfarin sodium 5 MG Oral Tablet"),
    "warfarin 5 mg tablet",
    "Take as directed by the anticoagulation clinic",
)
ACETAMINOPHEN_325 = Drug(
    _rx("313782", "acetaminophen 325 MG Oral Tablet"),
    "acetaminophen 325 mg tablet",
    "Take 2 tablets every 6 hours as needed for pain or fever",
)
ACETAMINOPHEN_500 = Drug(
    _rx("198440", "acetaminophen 500 MG Oral Tablet"),
    "acetaminophen 500 mg tablet",
    "Take 1 to 2 tablets every 6 hours as needed, max 3 g a day",
)
IBUPROFEN_200 = Drug(
    _rx("310965", "ibuprofen 200 MG Oral Tablet"),
    "ibuprofen 200 mg tablet",
    "Take 2 tablets every 8 hours as needed with food",
)
NAPROXEN_500 = Drug(
    _rx("198014", "naproxen 500 MG Oral Tablet"),
    "naproxen 500 mg tablet",
    "Take 1 tablet twice a day with food for up to 10 days",
)
DIAZEPAM_5 = Drug(
    _rx("197591", "diazepam 5 MG Oral Tablet"),
    "diazepam 5 mg tablet",
    "Take 1 tablet at bedtime as needed for sleep",
)
CETIRIZINE_10 = Drug(
    _rx("1014678", "cetirizine hydrochloride 10 MG Oral Tablet"),
    "cetirizine 10 mg tablet",
    "Take 1 tablet daily as needed",
)
FUROSEMIDE_40 = Drug(
    _rx("313988", "furosemide 40 MG Oral Tablet"), "furosemide 40 mg tablet", "1 tab PO daily"
)
ASPIRIN_81 = Drug(_rx("243670", "aspirin 81 MG Oral Tablet"), "aspirin 81 mg tablet", "1 tab daily")
# Free-text orders (no RxNorm on the order), as prescribers often leave them.
ALBUTEROL_INHALER = Drug(
    None, "Albuterol HFA 90 mcg/actuation inhaler", "2 puffs every 4-6 hours as needed"
)
SUMATRIPTAN = Drug(None, "SUMAtriptan 50 mg tablet", "1 tab at migraine onset, may repeat in 2 h")
BENZONATATE = Drug(None, "benzonatate 100 mg capsule", "1 capsule 3 times a day as needed")
CYCLOBENZAPRINE = Drug(None, "cyclobenzaprine 10 mg tablet", "1 tab at bedtime as needed")
CEFTRIAXONE_IV = Drug(None, "cefTRIAXone 1 g IV", "1 g IV every 24 hours")
HEPARIN_SUBCUT = Drug(None, "heparin 5,000 units/mL injection", "5,000 units subcut every 8 hours")
ONDANSETRON_IV = Drug(None, "ondansetron 4 mg/2 mL IV", "4 mg IV every 6 hours as needed")
FUROSEMIDE_IV = Drug(None, "furosemide 40 mg/4 mL IV", "40 mg IV twice a day")
FLUTICASONE_NASAL = Drug(None, "fluticasone 50 mcg nasal spray", "2 sprays each nostril daily")
NITROFURANTOIN = Drug(
    None,
    "nitrofurantoin monohydrate/macrocrystals 100 mg capsule",
    "1 capsule twice a day for 5 days",
)
OMEPRAZOLE = Drug(None, "omeprazole 20 mg DR capsule", "1 capsule daily before breakfast")
CHOLECALCIFEROL = Drug(None, "Vitamin D3 (cholecalciferol) 1,000 unit tablet", "1 tab daily")
PREDNISOLONE_EYE_DROPS = Drug(
    None, "prednisoLONE acetate 1% eye drops", "1 drop in the operated eye 4 times a day"
)


@dataclass(frozen=True)
class VisitType:
    """Encounter.type: a CPT evaluation-and-management code, or text alone."""

    code: Code | None
    text: str


OFFICE_VISIT = VisitType(_cpt("99213", "Office visit, established patient"), "Office Visit")
NEW_PATIENT_VISIT = VisitType(_cpt("99203", "Office visit, new patient"), "New Patient Visit")
PREVENTIVE_VISIT_18_39 = VisitType(_cpt("99395", "Preventive visit, 18-39"), "Annual Physical")
PREVENTIVE_VISIT_40_64 = VisitType(_cpt("99396", "Preventive visit, 40-64"), "Annual Physical")
PREVENTIVE_VISIT_65 = VisitType(_cpt("99397", "Preventive visit, 65 and over"), "Annual Physical")
ED_VISIT = VisitType(_cpt("99284", "Emergency department visit"), "ED Visit")
ADMISSION = VisitType(_cpt("99223", "Hospital admission, initial care"), "Hospital Encounter")
PREOP_VISIT = VisitType(_cpt("99213", "Office visit, established patient"), "Pre-Op Evaluation")
SURGERY_VISIT = VisitType(None, "Outpatient Surgery")

AMBULATORY = Code(ACT_CODE, "AMB", "ambulatory")
EMERGENCY = Code(ACT_CODE, "EMER", "emergency")
INPATIENT = Code(ACT_CODE, "IMP", "inpatient encounter")

# Provider taxonomy (NUCC) for PractitionerRole.specialty.
FAMILY_MEDICINE = Code(NUCC, "207Q00000X", "Family Medicine")
INTERNAL_MEDICINE = Code(NUCC, "207R00000X", "Internal Medicine")
EMERGENCY_MEDICINE = Code(NUCC, "207P00000X", "Emergency Medicine")
ORTHOPAEDIC_SURGERY = Code(NUCC, "207X00000X", "Orthopaedic Surgery")
NEUROLOGY = Code(NUCC, "2084N0400X", "Neurology")
ENDOCRINOLOGY = Code(NUCC, "207RE0101X", "Endocrinology, Diabetes and Metabolism")
OPHTHALMOLOGY = Code(NUCC, "207W00000X", "Ophthalmology")
GENERAL_SURGERY = Code(NUCC, "208600000X", "Surgery")
NURSE_PRACTITIONER = Code(NUCC, "363L00000X", "Nurse Practitioner")

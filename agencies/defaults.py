"""The Government Apparatus: the chancellery's agency, present on every database."""

APPARATUS_SLUG = "gov-apparatus"
APPARATUS = {
    "code": "GA",
    "kind": "apparatus",
    "name": "Кыргыз Республикасынын Министрлер Кабинетинин Аппараты",
    "name_ky": "Кыргыз Республикасынын Министрлер Кабинетинин Аппараты",
    "name_ru": "Аппарат Кабинета Министров Кыргызской Республики",
    "name_en": "Apparatus of the Cabinet of Ministers of the Kyrgyz Republic",
    "short_name": "Аппарат",
    "short_name_ky": "Аппарат",
    "short_name_ru": "Аппарат",
    "short_name_en": "Government Apparatus",
    "address": "Бишкек ш., Чүй пр., 205, Өкмөт үйү",
    "address_ky": "Бишкек ш., Чүй пр., 205, Өкмөт үйү",
    "address_ru": "г. Бишкек, пр. Чуй, 205, Дом Правительства",
    "address_en": "205 Chui Avenue, Government House, Bishkek",
}


def ensure_government_apparatus(agency_model):
    """Create the Apparatus if missing; works with the real or a migration's model."""
    agency, _ = agency_model.objects.get_or_create(
        slug=APPARATUS_SLUG, defaults=APPARATUS
    )
    return agency
